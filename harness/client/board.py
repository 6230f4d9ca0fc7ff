"""``LiveBoard``: the stream folded into the shapes of ``GET /api/data``.

It keeps the server's own run records (``projections.state.RunRecord``), filled from
the stream's absolute-state messages and the text deltas of running items (a delta for
an item it does not hold, or holds newer, is left for the item's next whole message:
``projections.text_deltas``), and builds the board with the server's own code
(``projections.board``), so it shows what a fresh ``GET /api/data`` shows. Feed it a
subscription that starts at ``FROM_START``: runs arrive in the order they were created,
which is the board's order, and every item a snapshot names arrives before it is shown.

Two totals are not carried by the stream, ``eventsApplied`` and ``problems``: they are
the values of the last ``GET /api/data`` given to ``seed_totals`` (0 until then).
"""

from __future__ import annotations

from harness.api_shapes import BOARD_LIMIT, Bootstrap
from harness.client.stream import StreamMessage
from projections.board import board_of, run_totals
from projections.messages import (
    QueueMessage,
    ResetMessage,
    RunItemMessage,
    RunProgressMessage,
    RunStatusMessage,
)
from projections.queue import QueuedRun
from projections.state import RunRecord
from projections.text_deltas import RunItemDeltaMessage, apply_text_delta


class LiveBoard:
    """A fold of stream messages; ``apply`` each, read ``snapshot()`` at any time."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.runs: dict[str, RunRecord] = {}  # in the order the runs were created
        self.queue: list[QueuedRun] = []
        self.position: str | None = None
        self.events_applied = 0
        self.problems = 0
        self._recent: dict[str, tuple[int, ...]] = {}  # each run's recent sequences, as sent

    def apply(self, message: StreamMessage, *, cursor: str | None = None) -> None:
        """Fold one message; ``cursor`` is the subscription's after it, if known."""
        if isinstance(message, ResetMessage):
            self._clear()
        elif isinstance(message, RunStatusMessage):
            record = self._record(message.run.id)
            record.info, record.lifecycle = message.run, message.lifecycle
        elif isinstance(message, RunProgressMessage):
            record = self._record(message.run_id)
            progress = message.progress
            record.total = progress.total
            record.counts.update(correct=progress.correct, incorrect=progress.incorrect,
                                 awaiting=progress.awaiting, faulted=progress.faulted)
            record.current = message.current_sequence
            self._recent[message.run_id] = message.recent_sequences
            self._name_recent(record)
        elif isinstance(message, RunItemMessage):
            record = self._record(message.run_id)
            record.items[message.item.sequence] = message.item
            self._name_recent(record)
        elif isinstance(message, RunItemDeltaMessage):
            held = self.runs.get(message.run_id)
            item = None if held is None else held.items.get(message.sequence)
            applied = None if item is None else apply_text_delta(item, message)
            if held is not None and applied is not None:
                held.items[message.sequence] = applied
        elif isinstance(message, QueueMessage):
            self.queue = message.queue
        if cursor is not None:
            self.position = cursor

    def seed_totals(self, bootstrap: Bootstrap) -> None:
        """Take the totals the stream does not carry from a ``GET /api/data``."""
        self.events_applied = bootstrap.totals.events_applied
        self.problems = bootstrap.totals.problems

    def snapshot(self, *, limit: int = BOARD_LIMIT) -> Bootstrap:
        """The board as ``GET /api/data`` shows it at ``position``."""
        order = list(self.runs.values())
        return Bootstrap(
            active=board_of(order, limit=limit),
            queue=list(self.queue),
            totals=run_totals(order, events_applied=self.events_applied,
                              problems=self.problems),
            position=self.position or "",
        )

    def _record(self, run_id: str) -> RunRecord:
        record = self.runs.get(run_id)
        if record is None:
            from projections.state import RunInfo

            # A placeholder until the run's status message (sent first) fills it in.
            info = RunInfo(id=run_id, provider_name="", dataset_name="", model_name="")
            record = self.runs[run_id] = RunRecord(info, 0, {}, ordinal=len(self.runs))
        return record

    def _name_recent(self, record: RunRecord) -> None:
        # A progress message names recent items that its group sends just after it.
        record.recent = tuple(s for s in self._recent.get(record.info.id, ()) if s in record.items)
