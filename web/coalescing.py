"""Per-item updates of a running item, coalesced to a few a second (SPEC §5).

While an item streams its text, every batch that touches it would send the item's
whole state (prompt, preview, …) to every client: at 50,000 deltas/s that is most of
the fan-out's bytes. The live stream instead sends a *running* item's state at most
once per ``window_s`` per item: an update that comes sooner is held, and the item's
then-current state is sent when its window ends. Every message still carries the
item's absolute state (to a client that asked for text deltas, the fan-out then sends
it as what it appended: ``projections.text_deltas``). An item that leaves ``running``
(answered, judged, faulted) is sent at once, and drops whatever was held for it. A run's status
releases the run's held items just before it: a run may end with an item still
``running`` (a failed run settles nothing), and its last update must not come after the
final status, where a client that stops at that status would never see it.

A held update may lie before a cursor the client was already given. A resume therefore
also sends every running item of the active runs (``projections.messages``): a client
that leaves with an update held, even across a server restart, gets it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.live import LiveLog
from projections.messages import StreamMessage, run_item

ITEM_WINDOW_S = 0.25  # at most four updates a second of one running item

ItemKey = tuple[str, int]  # (run id, sequence)


class ItemCoalescer:
    """Which of a batch's messages go out now, and which running items' updates wait.

    ``rebuild(run_id, sequence)`` gives an item's message as the read models hold it
    now (``None`` if the run is gone), for an update whose window has ended.
    """

    def __init__(self, rebuild: Callable[[str, int], StreamMessage | None], *,
                 window_s: float = ITEM_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rebuild = rebuild
        self.window_s = window_s
        self._clock = clock
        self._sent_at: dict[ItemKey, float] = {}  # running items sent lately
        self._held: dict[ItemKey, float] = {}     # running items waiting -> when due

    def pass_on(self, messages: list[StreamMessage]) -> list[StreamMessage]:
        """``messages`` less the updates of running items sent within their window."""
        if not self.window_s:
            return messages
        now = self._clock()
        out: list[StreamMessage] = []
        for message in messages:
            if message.sequence is None:
                if message.event == "run_status" and self._held:
                    out += self._release([key for key in self._held if key[0] == message.run_id],
                                         now)
                out.append(message)
                continue
            key = (message.run_id or "", message.sequence)
            if not message.streaming:
                self._sent_at.pop(key, None)
                self._held.pop(key, None)
                out.append(message)
                continue
            sent = self._sent_at.get(key)
            if sent is not None and now - sent < self.window_s:
                self._held.setdefault(key, sent + self.window_s)
                continue
            self._sent_at[key] = now
            self._held.pop(key, None)
            out.append(message)
        return out

    @property
    def holding(self) -> bool:
        """Whether any update is held."""
        return bool(self._held)

    def next_due(self) -> float | None:
        """When the earliest held update is due (``clock`` time), if any is held."""
        return min(self._held.values()) if self._held else None

    def due(self) -> list[StreamMessage]:
        """The current state of every held item whose window has ended."""
        now = self._clock()
        out = self._release([key for key, at in self._held.items() if at <= now], now)
        # Items that stopped streaming without a final message (a writer that died)
        # are forgotten once their window is over: their next update goes out at once.
        for key, sent in list(self._sent_at.items()):
            if now - sent >= self.window_s and key not in self._held:
                del self._sent_at[key]
        return out

    def _release(self, keys: list[ItemKey], now: float) -> list[StreamMessage]:
        """The current state of the held items ``keys``, no longer held."""
        out: list[StreamMessage] = []
        for key in keys:
            del self._held[key]
            message = self._rebuild(*key)
            if message is not None:
                self._sent_at[key] = now
                out.append(message)
        return out

    def clear(self) -> None:
        """Forget everything (the log was replaced)."""
        self._sent_at.clear()
        self._held.clear()


def current_item(live: LiveLog, run_id: str, sequence: int) -> StreamMessage | None:
    """The ``run_item`` message of an item as the read models hold it now."""
    record = live.models.runs.runs.get(run_id)
    # A run that shed its details has ended, and its items' final states were sent.
    return None if record is None or record.shed else run_item(record, sequence)
