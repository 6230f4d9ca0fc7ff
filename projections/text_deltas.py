"""``run_item_delta``: a running item's streamed text as what was appended, not all of it.

While an item streams, the only thing of it that changes is its ``activity``: the last
``PREVIEW_CHARS`` characters streamed (``preview``), how many there are in all
(``chars``), ``chunks`` and ``lastChunkAt``. A ``run_item`` re-sends the whole item
(prompt, choices, the preview) for each of those changes; to a client that asks for it
(``?delta=text``), the fan-out sends a ``run_item_delta`` instead when what it last sent
of the item was of the same attempt:

    {"runId", "sequence", "attempts", "offset", "text", "chunks", "lastChunkAt"}

"``text`` was streamed after the first ``offset`` characters": what was appended since,
or, when more than the preview holds was appended, the whole preview (then ``text`` is
``PREVIEW_CHARS`` long and needs nothing before it). Offsets and lengths count Unicode
code points (Python's ``len``; in JavaScript, ``Array.from(s).length``).

A client applies it (``apply_text_delta``) to an item it holds of the same ``attempts``,
still ``running``, with ``activity.chars <= offset + len(text)`` and either
``offset <= activity.chars`` or ``len(text) >= PREVIEW_CHARS``: the preview becomes the
last ``PREVIEW_CHARS`` of (what it holds up to ``offset``) + ``text``, ``chars`` becomes
``offset + len(text)``. Any other client ignores it: it either holds newer state (a
resume's opening may be newer than what follows it) or lacks the base (it never had the
item); the item's next absolute ``run_item`` — always sent when it stops running, and
for every new attempt — brings it up to date. Applying a delta twice gives the same
state as once. Openings, resumes, resets and final states stay absolute.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from projections.state import PREVIEW_CHARS, Activity, Item

if TYPE_CHECKING:  # it imports this module: its messages carry a ``StreamedText``
    from projections.messages import StreamMessage

_encode = msgspec.json.Encoder().encode

# Items whose base is kept at most. Forgetting a base is always safe (that item's next
# update goes out whole); the bound only stops items that stopped streaming without a
# final message (a writer that died) from piling up.
MAX_BASES = 10_000


class StreamedText(NamedTuple):
    """A running item's ``activity`` when its message was built (the item is mutated
    in place by the fold; these values are not)."""

    attempts: int
    chars: int
    preview: str
    chunks: int
    last_chunk_at: datetime | None

    @classmethod
    def of(cls, item: Item) -> StreamedText:
        activity = item.activity or Activity()
        return cls(item.attempts, activity.chars, activity.preview, activity.chunks,
                   activity.last_chunk_at)


class RunItemDeltaMessage(msgspec.Struct, rename="camel"):
    """The ``run_item_delta`` event (``?delta=text``): ``text`` streamed into item
    ``sequence`` of ``run_id`` after its first ``offset`` characters (code points), in
    attempt ``attempts``; ``chunks`` and ``last_chunk_at`` are the activity's new values.
    How to apply it: ``GET /api/events``' description."""

    run_id: str
    sequence: int
    attempts: int
    offset: int
    text: str
    chunks: int
    last_chunk_at: datetime | None


ItemKey = tuple[str, int]  # (run id, sequence)


class TextBases:
    """What the fan-out last sent of each running item: ``(attempts, chars)``.

    Every message list the fan-out hands out passes through ``compact`` (or ``note``,
    when no client takes deltas), in the order it goes out, so the base of a delta is
    something every client that takes the item's messages was sent, or older than what
    it holds.
    """

    def __init__(self, *, max_bases: int = MAX_BASES) -> None:
        self._sent: dict[ItemKey, tuple[int, int]] = {}
        self.max_bases = max_bases

    def compact(self, messages: Iterable[StreamMessage]) -> list[StreamMessage]:
        """``messages`` with each running item's ``run_item`` replaced by its
        ``run_item_delta`` where one can be made; the bases move on."""
        out = []
        for message in messages:
            base = self._note(message)
            text = message.text
            delta = None if base is None or text is None else _delta(message, text, base)
            out.append(message if delta is None else delta)
        return out

    def note(self, messages: Iterable[StreamMessage]) -> None:
        """Move the bases on for ``messages`` sent whole."""
        for message in messages:
            self._note(message)

    def _note(self, message: StreamMessage) -> tuple[int, int] | None:
        """Record ``message`` as sent; the base it had before, if it is a running item's."""
        if message.event != "run_item":
            return None
        key = (message.run_id or "", message.sequence or 0)
        text = message.text
        if text is None:  # it stopped running: its next update starts a new attempt
            self._sent.pop(key, None)
            return None
        base = self._sent.get(key)
        if base is None and len(self._sent) >= self.max_bases:
            self._sent.clear()
        self._sent[key] = (text.attempts, text.chars)
        return base

    def clear(self) -> None:
        """Forget every base (the log was replaced)."""
        self._sent.clear()


def _delta(message: StreamMessage, text: StreamedText,
           base: tuple[int, int]) -> StreamMessage | None:
    attempts, chars = base
    if attempts != text.attempts or text.chars < chars:  # another attempt: sent whole
        return None
    # What was appended, or the whole preview if more than it holds was.
    appended = min(text.chars - chars, len(text.preview))
    body = RunItemDeltaMessage(message.run_id or "", message.sequence or 0, attempts,
                               text.chars - appended,
                               text.preview[len(text.preview) - appended:], text.chunks,
                               text.last_chunk_at)
    return message._replace(event="run_item_delta", data=_encode(body), text=None)


def apply_text_delta(item: Item, delta: RunItemDeltaMessage) -> Item | None:
    """``item`` with ``delta`` applied, or ``None`` if it does not apply to it (see the
    module's docstring: the client holds newer state, or lacks the base)."""
    activity = item.activity or Activity()
    end = delta.offset + len(delta.text)
    has_base = delta.offset <= activity.chars or len(delta.text) >= PREVIEW_CHARS
    if (item.attempts != delta.attempts or item.state != "running"
            or activity.chars > end or not has_base):
        return None
    start = activity.chars - len(activity.preview)  # where the held preview begins
    kept = activity.preview[:max(0, delta.offset - start)]
    preview = (kept + delta.text)[-PREVIEW_CHARS:]
    return msgspec.structs.replace(item, activity=Activity(
        preview=preview, chunks=delta.chunks, chars=end, last_chunk_at=delta.last_chunk_at))
