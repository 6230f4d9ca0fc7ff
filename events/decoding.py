"""Turning records of the log into typed events, or into counted problems.

Decoding never raises for content, whatever the content is: invalid JSON, a value of
the wrong type, invalid UTF-8 anywhere in the record (also in a field the schema
ignores: such a record could not be sent on as text), nesting deeper than the decoder's
recursion limit, or anything else. Every record is either an event or a ``Problem`` with
the offset just after it (its position: ``EventLog.read_at`` gives it back), so a
reader can count it, log it once, and go on with the next record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, TypeVar

import msgspec

from events.log import RecordBatch
from events.schema import AnyEvent, Event

_decoder = msgspec.json.Decoder(AnyEvent)
T = TypeVar("T")

EXCERPT_CHARS = 120


class Problem(msgspec.Struct, rename="camel", frozen=True):
    """A record, or an event, that could not be applied. ``offset`` is just after it."""

    offset: int
    kind: str
    message: str
    excerpt: str = ""


class Record(NamedTuple):
    """A decoded record: the event, the offset just after it, and its bytes (UTF-8)."""

    event: Event
    end: int
    raw: bytes


def classify(error: Exception) -> str:
    """Name the kind of problem a decoding error is, for the health counts."""
    if isinstance(error, UnicodeDecodeError):
        return "invalid_utf8"
    if isinstance(error, RecursionError):
        return "too_deep"
    if not isinstance(error, msgspec.MsgspecError):
        return "undecodable"
    if not isinstance(error, msgspec.ValidationError):
        return "invalid_json"
    text = str(error)
    if text.startswith("Expected `object`"):
        return "not_an_object"
    if text.endswith("at `$.type`") or "required field `type`" in text:
        return "unknown_type"
    return "invalid_event"


def excerpt(raw: bytes) -> str:
    return raw[:EXCERPT_CHARS].decode("utf-8", "replace")


def check_utf8(data: bytes) -> None:
    """Raise ``UnicodeDecodeError`` unless ``data`` is UTF-8 (ASCII is checked fastest)."""
    if not data.isascii():
        data.decode()


def decode_event(raw: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """One record decoded with ``decoder``, its UTF-8 checked throughout."""
    check_utf8(raw)
    return decoder.decode(raw)


def decode_batch(lines: bytes) -> list[Event] | None:
    """Every event in ``lines`` at once — the replay fast path — or ``None`` if any line
    is not an event (then ``decode_records`` says which). Blank lines are skipped."""
    try:
        check_utf8(lines)
        return _decoder.decode_lines(lines)
    except Exception:
        return None


def decode_records(batch: RecordBatch) -> Iterator[Record | Problem]:
    """Each record of ``batch`` as a ``Record`` or a ``Problem``, in order."""
    for raw, end in zip(batch.raws, batch.ends, strict=True):
        try:
            event = decode_event(raw, _decoder)
        except Exception as error:
            yield Problem(end, classify(error), _message(error), excerpt(raw))
            continue
        yield Record(event, end, raw)


def _message(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"invalid UTF-8 at byte {error.start} of the record"
    if isinstance(error, RecursionError):
        return "nested too deeply to decode"
    return str(error)[:500]


def decode_each(data: bytes, decoder: msgspec.json.Decoder[T]) -> tuple[list[T], int]:
    """The whole lines of a side log (memory, page feedback) decoded with ``decoder``,
    blank ones skipped; and how many lines could not be decoded."""
    decoded: list[T] = []
    bad = 0
    for line in data.split(b"\n")[:-1]:
        if not line.strip():
            continue
        try:
            decoded.append(decode_event(line, decoder))
        except Exception:
            bad += 1
    return decoded, bad
