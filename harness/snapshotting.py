"""When the server writes read-model snapshots, and how without stalling the reader.

Every ``every_events`` events or ``every_s`` seconds (whichever comes first, and only
if the log moved), and once more at a clean shutdown. Taking one has three steps:

1. finished runs still holding their details shed them (``projections.shedding``):
   their positions are packed in a worker thread; back on the event loop a run is
   shed only if it has not changed meanwhile (its details are then read back from the
   log when asked for, ``harness.readback``);
2. the models are encoded on the event loop, in one step with nothing in between, so
   the snapshot is exactly the state at one position (this is the only part the
   reader waits for: about 25–65 ms per million events of history, measured);
3. the bytes are written and renamed into place in a worker thread.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

import anyio
import anyio.to_thread

from events.log import EventLog
from harness.readback import shed_finished_runs
from harness.snapshots import SnapshotStore
from projections import snapshot
from projections.readmodels import ReadModels

logger = logging.getLogger("harness.snapshots")


class HasModels(Protocol):
    @property
    def models(self) -> ReadModels: ...

    @property
    def log(self) -> EventLog: ...


async def take_snapshot(live: HasModels, store: SnapshotStore) -> None:
    """Write one snapshot of ``live.models`` as they are once their finished runs are
    shed."""
    await shed_finished_runs(live.models)
    models = live.models
    body = snapshot.encode_body(models)  # the models at one position, nothing in between
    position, applied = models.position, models.events_applied
    [last_record] = await live.log.read_at([position]) if position.offset else [None]
    data = snapshot.assemble(body, position, applied, last_record=last_record)
    await anyio.to_thread.run_sync(store.write, data, position)


async def keep_snapshots(live: HasModels, store: SnapshotStore, *, every_events: int,
                         every_s: float, applied: int = 0,
                         task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                         ) -> None:
    """Take a snapshot whenever ``every_events`` events were applied or ``every_s``
    seconds passed with the log moved, counting from ``applied`` events (what the
    snapshot loaded at start-up held, 0 after a full replay); until cancelled. A failed
    write is logged and retried at the next turn: snapshots are a cache, never a
    reason to stop."""
    task_status.started()
    taken_at = time.monotonic()
    while True:
        await anyio.sleep(min(1.0, every_s))
        models = live.models
        moved = models.events_applied != applied
        due = (models.events_applied - applied >= every_events
               or time.monotonic() - taken_at >= every_s)
        if not (moved and due):
            continue
        try:
            await take_snapshot(live, store)
        except Exception as error:  # a cache: whatever went wrong, the log is still whole
            store.last_error = f"{type(error).__name__}: {error}"
            logger.exception("could not write a snapshot (will retry)")
        else:
            store.last_error = None
        applied = models.events_applied
        taken_at = time.monotonic()
