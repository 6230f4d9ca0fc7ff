"""Which finished runs let the log hold their details (``RunRecord.shed_details``).

Every finished run does, once its shed form (its event positions, compressed) is
made; the ``BOARD_KEPT`` most recently finished keep the few items their board card
shows, so that the board never reads the log. A run that leaves those few lets go of
them at the next pass. Making the shed forms is the slow part and may run in a worker
thread (``shed_forms``); adopting them (``shed``) is quick and must happen where nothing
changes the models meanwhile: a run that changed since its form was made is skipped.
"""

from __future__ import annotations

from itertools import islice

from projections.readmodels import ReadModels
from projections.state import RunRecord

BOARD_KEPT = 32
"""Finished runs, the most recently finished first, that keep their board items: at
least the board's largest page (24)."""

ShedForm = tuple[RunRecord, int, bytes]  # the run, its ``changed_at`` then, its positions


def sheddable(models: ReadModels) -> list[RunRecord]:
    """The finished runs still holding their details, but for one left with an item
    running (a writer that ended it mid-item): a live stream may still owe its
    subscribers that item's latest text, which it reads off the run."""
    return [record for record in models.runs.order if _may_shed(record)]


def _may_shed(record: RunRecord) -> bool:
    return not record.shed and not record.active and not record.counts["running"]


def shed_forms(records: list[RunRecord]) -> list[ShedForm]:
    """What each of ``records`` keeps once shed (may run in a worker thread)."""
    return [(record, record.changed_at, record.shed_positions()) for record in records]


def shed(models: ReadModels, forms: list[ShedForm]) -> int:
    """Shed the runs of ``forms`` that have not changed since, and let the runs no longer
    among the most recently finished drop their board items; how many were shed."""
    board = {record.ordinal for record in islice(models.runs.index.latest_finished(),
                                                 BOARD_KEPT)}
    count = 0
    for record, seen, positions in forms:
        if record.changed_at == seen and _may_shed(record):
            record.shed_details(positions, keep_board=record.ordinal in board)
            count += 1
    for record in models.runs.order:
        if record.shed and record.ordinal not in board:
            record.drop_board_items()
    return count


def shed_finished(models: ReadModels) -> int:
    """Shed every finished run at once (a script, a test: nothing runs meanwhile)."""
    return shed(models, shed_forms(sheddable(models)))
