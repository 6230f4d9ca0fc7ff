"""The active-runs board and the dashboard's bootstrap totals, read off the run index:
each costs what it returns, whatever the history."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import islice

import msgspec

from projections.readmodels import ReadModels
from projections.run_index import finish_key
from projections.state import RunRecord, RunSnapshot


class Totals(msgspec.Struct, rename="camel"):
    runs: int
    active: int
    by_status: dict[str, int]
    events_applied: int
    problems: int


def active_board(models: ReadModels, *, limit: int) -> list[RunSnapshot]:
    """Active runs (pending, running), newest first; then the most recently finished.
    Each must hold its snapshot (``RunRecord.holds_snapshot``)."""
    return [record.snapshot() for record in board_runs(models, limit=limit)]


def board_runs(models: ReadModels, *, limit: int) -> list[RunRecord]:
    """The runs ``active_board`` shows, in its order."""
    index = models.runs.index
    shown = index.newest_active(limit)
    shown.extend(islice(index.latest_finished(), limit - len(shown)))
    return shown


def totals(models: ReadModels) -> Totals:
    index = models.runs.index
    return Totals(
        runs=len(models.runs.order),
        active=index.active_count,
        by_status=dict(index.by_status),
        events_applied=models.events_applied,
        problems=models.problems.total,
    )


# The same board for a holder of run records without the server's index (a client's
# fold of the stream, ``harness.client.LiveBoard``); the client's tests compare the two.


def board_of(order: Sequence[RunRecord], *, limit: int) -> list[RunSnapshot]:
    """What ``active_board`` shows, from runs listed in creation order."""
    active = [record for record in reversed(order) if record.active][:limit]
    room = limit - len(active)
    finished: list[RunRecord] = []
    if room > 0:
        finished = heapq.nlargest(room, (record for record in order if not record.active),
                                  key=finish_key)
    return [record.snapshot() for record in (*active, *finished)]


def run_totals(order: Iterable[RunRecord], *, events_applied: int, problems: int) -> Totals:
    """What ``totals`` shows, from run records."""
    by_status: Counter[str] = Counter(record.info.status for record in order)
    return Totals(
        runs=sum(by_status.values()),
        active=by_status["pending"] + by_status["running"],
        by_status=dict(by_status),
        events_applied=events_applied,
        problems=problems,
    )
