"""The whole state of a set of read models as comparable JSON."""

from __future__ import annotations

import anyio
import msgspec

from harness.readback import RunDetails
from projections.items import iter_items
from projections.readmodels import ReadModels
from projections.state import RunRecord


def dump(models: ReadModels, *, details: RunDetails | None = None) -> dict:
    """Every run (snapshot, items, logs, config), the queue and the problem counts; a
    run that shed its details is read back by ``details`` (from outside an event loop;
    within one, ``dump_read_back``)."""
    return _dump(models, {record.info.id: _held(record, models, details)
                          for record in models.runs.order})


async def dump_read_back(models: ReadModels, details: RunDetails) -> dict:
    """``dump`` from within an event loop."""
    generation = models.position.generation
    return _dump(models, {record.info.id: await details.of(record, generation=generation)
                          for record in models.runs.order})


def _dump(models: ReadModels, held: dict[str, RunRecord]) -> dict:
    return msgspec.json.decode(msgspec.json.encode({
        "runs": {run_id: run_state(record) for run_id, record in held.items()},
        "queue": models.queue.items(),
        "problems": dict(models.problems.counts),
        "applied": models.events_applied,
    }))


def run_state(record: RunRecord) -> dict:
    """One run as a whole: what every route shows of it, and what a resume sends."""
    return {
        "snapshot": record.snapshot(),
        "items": list(iter_items(record)),
        "logs": record.logs,
        "config": record.config,
        "changed": record.item_changed_at,
        "positions": list(record.positions),
    }


def _held(record: RunRecord, models: ReadModels, details: RunDetails | None) -> RunRecord:
    if not record.shed:
        return record
    if details is None:
        raise AssertionError(f"run {record.info.id} shed its details: pass details")
    generation = models.position.generation
    return anyio.run(lambda: details.of(record, generation=generation))
