"""Folding raw log lines into read models as the live server does, line by line."""

from __future__ import annotations

import anyio

from events.log import batch_of_lines
from harness.readback import RunDetails
from projections.messages import StreamMessage, resume_slices
from projections.readmodels import ReadModels
from projections.state import RunRecord


def fold_lines(models: ReadModels, lines: list[bytes], generation: str, *,
               start: int = 0, details: RunDetails | None = None) -> ReadModels:
    """Apply ``lines`` (each ended by a newline) to ``models``, the first beginning at
    offset ``start`` of the log's history ``generation``; the models, for chaining. A
    run that shed its details and changes again is read back by ``details``."""
    offset = start
    for line in lines:
        batch = batch_of_lines(line, start=offset, generation=generation)
        while (needs := models.apply_batch(batch).needs) is not None:
            if details is None:
                raise AssertionError(f"run {needs.info.id} shed its details: pass details")
            anyio.run(lambda: details.restore(needs, generation=generation))
        offset += len(line)
    return models


async def held(record: RunRecord) -> RunRecord:
    """The ``details`` of ``resume_slices`` for models whose runs all hold theirs."""
    return record


def messages_missed(models: ReadModels, offset: int) -> list[StreamMessage]:
    """Everything a client resuming at ``offset`` of ``models`` is sent, in order."""
    async def collect() -> list[StreamMessage]:
        return [message async for part in resume_slices(models, offset, None, items=True,
                                                        details=held)
                for message in part]
    return anyio.run(collect)
