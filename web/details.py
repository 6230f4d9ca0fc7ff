"""Runs with their details, for the routes that show items or log lines.

A finished run may have shed its details (``projections.shedding``); these helpers
hand the projections a run that holds them, read back from the log when it must be
(``harness.readback``), so that every route answers from the same folds.
"""

from __future__ import annotations

from harness.errors import LogUnavailable
from harness.live import LiveLog
from projections.board import board_runs
from projections.state import RunRecord, RunSnapshot

BOARD_ATTEMPTS = 5


async def with_details(live: LiveLog, records: list[RunRecord]) -> list[RunRecord]:
    """``records`` (of ``live``'s read models now) each holding its details."""
    generation = live.position.generation
    return [await live.details.of(record, generation=generation) for record in records]


async def board(live: LiveLog, *, limit: int) -> list[RunSnapshot]:
    """The board (``projections.board.active_board``) at ``live.position`` as it is on
    return. Its finished runs keep their board items, so it reads nothing back, unless
    a run finished out of order (a back-dated finish time) falls among them: then that
    run is read back, and the board built again if the log moved meanwhile (runs read
    back are kept, so the next attempt rarely waits; a log that keeps moving under
    ``BOARD_ATTEMPTS`` of them is a 503 to retry, not a request that never ends)."""
    for _ in range(BOARD_ATTEMPTS):
        position = live.position
        records = board_runs(live.models, limit=limit)
        snapshots = [record.snapshot() if record.holds_snapshot else None
                     for record in records]
        missing = [record for record, shown in zip(records, snapshots, strict=True)
                   if shown is None]
        if not missing:
            return snapshots  # type: ignore[return-value]
        loaded = iter(await with_details(live, missing))
        if live.position == position:
            return [shown if shown is not None else next(loaded).snapshot()
                    for shown in snapshots]
    raise LogUnavailable("the board's runs kept changing while they were read back from "
                         "the log: retry shortly")
