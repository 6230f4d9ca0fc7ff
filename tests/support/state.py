"""The whole state of a set of read models as comparable JSON."""

from __future__ import annotations

import msgspec

from projections.items import iter_items
from projections.readmodels import ReadModels


def dump(models: ReadModels) -> dict:
    """Every run (snapshot, items, logs, config), the queue and the problem counts."""
    runs = {
        record.info.id: {
            "snapshot": record.snapshot(),
            "items": list(iter_items(record)),
            "logs": record.logs,
            "config": record.config,
        }
        for record in models.runs.order
    }
    return msgspec.json.decode(msgspec.json.encode({
        "runs": runs,
        "queue": models.queue.items(),
        "problems": dict(models.problems.counts),
        "applied": models.events_applied,
    }))
