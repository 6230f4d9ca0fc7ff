"""Folding raw log lines into read models as the live server does, line by line."""

from __future__ import annotations

from events.log import batch_of_lines
from projections.readmodels import ReadModels


def fold_lines(models: ReadModels, lines: list[bytes], generation: str, *,
               start: int = 0) -> ReadModels:
    """Apply ``lines`` (each ended by a newline) to ``models``, the first beginning at
    offset ``start`` of the log's history ``generation``; the models, for chaining."""
    offset = start
    for line in lines:
        models.apply_batch(batch_of_lines(line, start=offset, generation=generation))
        offset += len(line)
    return models
