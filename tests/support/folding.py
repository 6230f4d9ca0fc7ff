"""Folding raw log lines into read models as the live server does, line by line."""

from __future__ import annotations

import anyio

from events.log import batch_of_lines
from harness.readback import RunDetails
from projections.readmodels import ReadModels


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
