"""Turning complete lines of the log into typed events, or into counted problems.

Decoding never raises for content: every line is either an event or a ``Problem`` with
the byte offset where the line starts, so a reader can count it, log it once, and go on
with the next line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, TypeVar

import msgspec

from events.schema import AnyEvent, Event

_decoder = msgspec.json.Decoder(AnyEvent)
T = TypeVar("T")

EXCERPT_CHARS = 120


class Problem(msgspec.Struct, rename="camel", frozen=True):
    """A line, or an event, that could not be applied. ``offset`` is where its line starts."""

    offset: int
    kind: str
    message: str
    excerpt: str = ""


class Record(NamedTuple):
    """A decoded line: the event, where its line starts and ends, and its bytes."""

    event: Event
    start: int
    end: int
    raw: bytes


def classify(error: msgspec.MsgspecError) -> str:
    """Name the kind of problem a decoding error is, for the health counts."""
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


def decode_batch(data: bytes) -> list[Event] | None:
    """Every event in ``data`` at once — the replay fast path — or ``None`` if any line
    is not an event (then ``decode_lines`` says which). Blank lines are skipped."""
    try:
        return _decoder.decode_lines(data)
    except msgspec.MsgspecError:
        return None


def line_starts(data: bytes, start: int) -> list[int]:
    """The offset of every non-blank line of ``data``, in the order ``decode_batch``
    returns their events."""
    offsets = []
    offset = start
    for raw in data.split(b"\n")[:-1]:
        if raw.strip():
            offsets.append(offset)
        offset += len(raw) + 1
    return offsets


SIDE_LOG_UNDECODABLE = (msgspec.MsgspecError, UnicodeDecodeError, RecursionError)
"""What msgspec raises for a line it cannot decode: its own errors, and also invalid
UTF-8 inside a string and nesting deeper than about 1,000 levels."""


def decode_each(data: bytes, decoder: msgspec.json.Decoder[T]) -> tuple[list[T], int]:
    """The whole lines of a side log (memory, page feedback) decoded with ``decoder``,
    blank ones skipped; and how many lines could not be decoded."""
    decoded: list[T] = []
    bad = 0
    for line in data.split(b"\n")[:-1]:
        if not line.strip():
            continue
        try:
            decoded.append(decoder.decode(line))
        except SIDE_LOG_UNDECODABLE:
            bad += 1
    return decoded, bad


def decode_lines(data: bytes, start: int) -> Iterator[Record | Problem]:
    """Decode ``data`` — whole lines, each ended by ``\\n`` — that begins at offset ``start``.

    Blank lines are skipped without complaint: they carry nothing and some writers
    leave them.
    """
    decode = _decoder.decode
    offset = start
    for raw in data.split(b"\n")[:-1]:
        line_start = offset
        offset += len(raw) + 1
        if not raw.strip():
            continue
        try:
            event = decode(raw)
        except msgspec.MsgspecError as error:
            yield Problem(line_start, classify(error), str(error), excerpt(raw))
            continue
        yield Record(event, line_start, offset, raw)
