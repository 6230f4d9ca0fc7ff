"""The queue read model: run specs waiting for a free slot, in the order they came."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from events import schema as ev


class QueuedRun(msgspec.Struct, rename="camel", kw_only=True):
    queue_id: str
    spec: dict[str, Any]
    enqueued_at: datetime | None = None


class RunQueue:
    def __init__(self) -> None:
        self.pending: dict[str, QueuedRun] = {}
        self.dispatched: dict[str, str] = {}
        self.changed_at = 0  # log offset of the last change, for resuming clients

    def apply(self, event: ev.Event) -> tuple[str, str] | None:
        if type(event) is ev.QueueEnqueued:
            if event.queue_id in self.pending or event.queue_id in self.dispatched:
                return ("duplicate_queue_id", f"queue id {event.queue_id!r} was already used")
            self.pending[event.queue_id] = QueuedRun(
                queue_id=event.queue_id, spec=dict(event.spec), enqueued_at=event.ts)
            return None
        if self.pending.pop(event.queue_id, None) is None:  # type: ignore[attr-defined]
            return ("unknown_queue_id", f"no queued run {event.queue_id!r}")  # type: ignore[attr-defined]
        if type(event) is ev.QueueDispatched:
            self.dispatched[event.queue_id] = event.run_id
        return None

    def items(self) -> list[QueuedRun]:
        return list(self.pending.values())
