"""The active-runs board and the dashboard's bootstrap totals."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
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
    return board_of(models.runs.order, limit=limit)


def board_of(order: Sequence[RunRecord], *, limit: int) -> list[RunSnapshot]:
    """The board of runs listed in creation order: what ``active_board`` shows, for any
    holder of run records (the server's folds, or a client's fold of the stream)."""
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
    return run_totals(models.runs.order, events_applied=models.events_applied,
                      problems=models.problems.total)


def run_totals(order: Iterable[RunRecord], *, events_applied: int, problems: int) -> Totals:
    by_status: Counter[str] = Counter(record.info.status for record in order)
    return Totals(
        runs=sum(by_status.values()),
        active=by_status["pending"] + by_status["running"],
        by_status=dict(by_status),
        events_applied=events_applied,
        problems=problems,
    )
