"""One run as it was at a point of the log: its own events, read back by position,
folded into a fresh run store. The cost is that run's events up to the point, never
the log's size."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

from events import schema as ev
from projections.runs import RunStore
from projections.state import RunRecord


def positions_until(record: RunRecord, offset: int) -> list[int]:
    """The ends of the run's events at or before log offset ``offset``, in order."""
    return list(record.positions[:bisect_right(record.positions, offset)])


def fold_run(run_id: str, events: Iterable[tuple[ev.Event, int]]) -> RunRecord | None:
    """The run after ``events`` (each with its record's end offset); ``None`` if the
    run did not exist yet."""
    store = RunStore()
    for event, end in events:
        store.apply(event, end, None)
    return store.runs.get(run_id)
