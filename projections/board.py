"""The active-runs board and the dashboard's bootstrap totals."""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import UTC, datetime

import msgspec

from projections.readmodels import ReadModels
from projections.state import RunRecord, RunSnapshot

NEVER = datetime.min.replace(tzinfo=UTC)


class Totals(msgspec.Struct, rename="camel"):
    runs: int
    active: int
    by_status: dict[str, int]
    events_applied: int
    problems: int


def active_board(models: ReadModels, *, limit: int) -> list[RunSnapshot]:
    """Active runs (pending, running), newest first; then the most recently finished."""
    order = models.runs.order
    active = [record for record in reversed(order) if record.active][:limit]
    room = limit - len(active)
    finished: list[RunRecord] = []
    if room > 0:
        finished = heapq.nlargest(
            room,
            (record for record in order if not record.active),
            key=lambda record: (record.info.finished_at or NEVER, record.ordinal),
        )
    return [record.snapshot() for record in (*active, *finished)]


def totals(models: ReadModels) -> Totals:
    by_status: Counter[str] = Counter(record.info.status for record in models.runs.order)
    return Totals(
        runs=len(models.runs.order),
        active=by_status["pending"] + by_status["running"],
        by_status=dict(by_status),
        events_applied=models.events_applied,
        problems=models.problems.total,
    )
