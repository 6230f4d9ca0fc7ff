"""The active-runs board and the dashboard's bootstrap totals, read off the run index:
each costs what it returns, whatever the history."""

from __future__ import annotations

from itertools import islice

import msgspec

from projections.readmodels import ReadModels
from projections.state import RunSnapshot


class Totals(msgspec.Struct, rename="camel"):
    runs: int
    active: int
    by_status: dict[str, int]
    events_applied: int
    problems: int


def active_board(models: ReadModels, *, limit: int) -> list[RunSnapshot]:
    """Active runs (pending, running), newest first; then the most recently finished."""
    index = models.runs.index
    shown = index.newest_active(limit)
    shown.extend(islice(index.latest_finished(), limit - len(shown)))
    return [record.snapshot() for record in shown]


def totals(models: ReadModels) -> Totals:
    index = models.runs.index
    return Totals(
        runs=len(models.runs.order),
        active=index.active_count,
        by_status=dict(index.by_status),
        events_applied=models.events_applied,
        problems=models.problems.total,
    )
