"""Browser Harness packs: signed bundles of prompts that leave the server and come back.

A pack is handed to a browser extension, which pastes each prompt into a chat page and
captures the answers. The pack comes back with the captures, so the server must be able
to tell that it is the pack it issued, unchanged and still fresh: it signs the pack's
canonical JSON with HMAC-SHA256. A pack never holds an answer key; judging happens on
the server against its own dataset.

Everything here is pure: the key and the current time are arguments.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import msgspec
from msgspec import Meta

from events import schema as ev
from events.schema import Timestamp, TimestampText
from events.writer import format_timestamp
from harness.errors import Invalid

DEFAULT_TTL = timedelta(hours=24)
SOURCE = "browser-harness"
NOT_CAPTURED = "not captured"


class InvalidSignature(Invalid):
    code = "invalid_signature"


class PackExpired(Invalid):
    code = "expired"


class InvalidCaptures(Invalid):
    code = "invalid_captures"


class PackItem(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    sequence: Annotated[int, Meta(ge=1)]
    prompt_text: str
    choices: list[str] | None = None


class Pack(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """A signed pack as it travels; ``signature`` covers every other field."""

    pack_id: str
    created_at: TimestampText
    expires_at: TimestampText
    dataset_name: str
    model_name: str
    provider_name: str
    items: list[PackItem]
    signature: str = ""


class Capture(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """One answer the extension captured from the chat page."""

    sequence: int
    response_text: str
    captured_at: Timestamp | None = None


class Verdict(Protocol):
    """What judging one captured answer found (``harness.judge.Verdict`` has this shape)."""

    @property
    def correct(self) -> bool: ...
    @property
    def expected(self) -> str | None: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def judge(self) -> str | None: ...


def canonical_bytes(pack: Pack) -> bytes:
    """The bytes that are signed: the pack without its signature, keys sorted, no spaces.

    Built from the decoded struct rather than the bytes received, so that whitespace,
    key order or an omitted ``"choices": null`` do not matter, while any changed value does.
    """
    document = msgspec.to_builtins(pack)
    document.pop("signature", None)
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def signature_of(pack: Pack, key: bytes) -> str:
    return hmac.new(key, canonical_bytes(pack), hashlib.sha256).hexdigest()


def new_pack(*, dataset_name: str, model_name: str, provider_name: str,
             items: Iterable[PackItem], key: bytes, now: datetime,
             ttl: timedelta = DEFAULT_TTL) -> Pack:
    """A freshly signed pack with a random id, valid from ``now`` for ``ttl``."""
    unsigned = Pack(
        pack_id="pk-" + secrets.token_hex(12),
        created_at=format_timestamp(now),
        expires_at=format_timestamp(now + ttl),
        dataset_name=dataset_name,
        model_name=model_name,
        provider_name=provider_name,
        items=list(items),
    )
    return msgspec.structs.replace(unsigned, signature=signature_of(unsigned, key))


def verify(pack: Pack, key: bytes, *, now: datetime) -> None:
    """Raise unless ``pack`` was signed with ``key`` and has not expired at ``now``.

    The signature is checked first and in constant time, so that nothing about an
    altered pack, not even its expiry, is believed.
    """
    if not hmac.compare_digest(pack.signature.encode(), signature_of(pack, key).encode()):
        raise InvalidSignature("the pack's signature does not match its content")
    expires_at = datetime.fromisoformat(pack.expires_at)
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if now >= expires_at:
        raise PackExpired(f"the pack expired at {pack.expires_at}",
                          details={"expiresAt": pack.expires_at})


def check_captures(pack: Pack, captures: list[Capture]) -> None:
    """Raise ``InvalidCaptures`` naming the first capture that cannot be imported."""
    if not captures:
        raise InvalidCaptures("no captures to import", details={"sequence": None})
    sequences = {item.sequence for item in pack.items}
    seen: set[int] = set()
    for capture in captures:
        reason = None
        if capture.sequence not in sequences:
            reason = "is not in the pack"
        elif capture.sequence in seen:
            reason = "is captured more than once"
        elif not capture.response_text.strip():
            reason = "has no response text"
        elif capture.captured_at is not None and not _in_utc_range(capture.captured_at):
            reason = "has a capture time that is not a time in UTC's calendar"
        if reason is not None:
            raise InvalidCaptures(f"capture for sequence {capture.sequence} {reason}",
                                  details={"sequence": capture.sequence})
        seen.add(capture.sequence)


def _in_utc_range(moment: datetime) -> bool:
    """Whether ``moment`` still has a date once converted to UTC
    (``0001-01-01T00:00:00+23:59`` does not: it falls before year 1)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def import_run_id(pack: Pack, captures: list[Capture]) -> str:
    """The id of the run an import creates: the same pack and captures, the same run.

    Captures are taken in sequence order, so an extension that sends them in another
    order does not create a second run.
    """
    ordered = sorted(captures, key=lambda capture: capture.sequence)
    payload = json.dumps([pack.pack_id, msgspec.to_builtins(ordered)], sort_keys=True,
                         separators=(",", ":"), ensure_ascii=False).encode()
    return "bh-" + hashlib.sha256(payload).hexdigest()[:16]


def import_events(pack: Pack, captures: list[Capture], verdicts: Mapping[int, Verdict], *,
                  run_id: str, now: datetime) -> list[ev.Event]:
    """The whole run an import creates, as events to append in one write.

    Every event carries an ``eventId`` derived from the run id, so that two concurrent
    imports of the same captures fold into one run even if both reach the log. Items
    of the pack that were not captured are faulted with ``"not captured"``.
    """
    at = now
    by_sequence = {capture.sequence: capture for capture in captures}
    events: list[ev.Event] = [
        ev.RunCreated(run_id=run_id, ts=at, provider_name=pack.provider_name,
                      model_name=pack.model_name, dataset_name=pack.dataset_name,
                      total=len(pack.items),
                      config={"source": SOURCE, "packId": pack.pack_id}),
        ev.RunStarted(run_id=run_id, ts=at),
    ]
    for item in sorted(pack.items, key=lambda item: item.sequence):
        capture = by_sequence.get(item.sequence)
        captured_at = capture.captured_at if capture else None
        item_at = captured_at or at
        common: dict[str, Any] = {"run_id": run_id, "sequence": item.sequence, "ts": item_at}
        events.append(ev.ItemStarted(**common, prompt_text=item.prompt_text,
                                     choices=None if item.choices is None
                                     else tuple(item.choices)))
        if capture is None:
            events.append(ev.ItemFaulted(**common, error=NOT_CAPTURED))
            continue
        verdict = verdicts[item.sequence]
        events.append(ev.ItemAnswered(**common, response_text=capture.response_text,
                                      answer=verdict.answer))
        events.append(ev.ItemJudged(**common, correct=verdict.correct,
                                    expected=verdict.expected, judge=verdict.judge))
    events.append(ev.RunFinished(run_id=run_id, ts=at, status="completed"))
    return [msgspec.structs.replace(event, event_id=f"{run_id}:{index}")
            for index, event in enumerate(events)]
