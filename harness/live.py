"""The live log: the tailer, the read models and the bus, kept in step.

One task owns the read models. It wakes on the doorbell, folds every new chunk of the
log into the read models, and publishes one ``LogBatch`` per chunk — the records for
WebSocket clients and the encoded stream messages for SSE clients. When the log is
truncated or replaced it rebuilds the read models from the new file in a worker
thread, swaps them in whole, and publishes a ``LogReset``; requests never see a model
half rebuilt.

The server's own commands append through ``append``, which rings the doorbell and
returns once the read models reflect the new lines, so a command's response can show
its own effect.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from events.bus import Broadcast
from events.decoding import Record
from events.log import EventLog, LogReader
from events.position import Position
from events.schema import Event
from events.tailer import Chunk, Rotation
from projections.messages import StreamMessage, messages_for
from projections.readmodels import ReadModels

logger = logging.getLogger("harness.live")


@dataclass(frozen=True, eq=False)
class LogBatch:
    """What one chunk of the log added: its records and the stream messages it caused."""

    position: Position
    records: list[Record]
    messages: list[StreamMessage]
    cache: dict[str, bytes | str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, eq=False)
class LogReset:
    """The log was truncated or replaced; subscribers must drop their state."""

    position: Position
    reason: str


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a replay builds millions of long-lived objects.

    Each full collection would walk every read-model object built so far (a quarter of
    a replay's time, measured); the folds make no reference cycles, so nothing is
    left for the collector to find, and reference counting still frees the rest.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def replay(reader: LogReader) -> ReadModels:
    """Fold everything ``reader`` has not read yet into new read models."""
    models = ReadModels()
    with cyclic_gc_paused():
        for chunk in reader.read_new():
            if isinstance(chunk, Chunk):
                models.apply_chunk(chunk, keep_records=False)
    return models


class LiveLog:
    """The read models of ``log``, kept current, with a bus of their changes.

    ``bus_buffer`` is how many batches a subscriber may lag before it is dropped.
    """

    def __init__(self, log: EventLog, *, bus_buffer: int = 1024) -> None:
        self.log = log
        self.bus: Broadcast[LogBatch | LogReset] = Broadcast(buffer_size=bus_buffer)
        self.reader = log.reader()
        self.models = ReadModels()
        self.resets = 0
        self._polls_started = 0
        self._polls_finished = 0
        self._caught_up = anyio.Event()

    @property
    def position(self) -> Position:
        return self.models.position

    async def start(self) -> None:
        """Fold everything already in the log, off the event loop."""
        self.models = await anyio.to_thread.run_sync(replay, self.reader)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """Follow the log until cancelled; started once appends are being watched."""
        async with anyio.create_task_group() as tasks:
            await tasks.start(self.log.watch)
            task_status.started()
            while True:
                await self.poll()
                await self.log.changed()

    async def poll(self) -> None:
        """Apply whatever the log gained since the last poll."""
        self._polls_started += 1
        number = self._polls_started
        for chunk in self.reader.read_new():
            if isinstance(chunk, Rotation):
                await self._rebuild(chunk.reason)
                break
            applied = self.models.apply_chunk(chunk)
            if applied.changes is not None and self.bus.statistics().subscribers:
                self.bus.publish(LogBatch(applied.position, applied.records,
                                          messages_for(self.models, applied.changes)))
            await anyio.lowlevel.checkpoint()  # let requests in between large chunks
        self._polls_finished = number
        self._wake_waiters()

    def append_nowait(self, events: Iterable[Event | dict[str, Any]]) -> int:
        """Append ``events`` at once and wake the reader; the offset after them."""
        end = self.log.append(events)
        self.log.notify()
        return end

    async def append(self, events: Iterable[Event | dict[str, Any]]) -> Position:
        """Append ``events`` at once and wait until the read models include them.

        It waits for a poll that *started* after the write: that poll looks at the log
        as it is with the write in it, whether it then reads on or rebuilds from a new
        file. Comparing offsets instead goes wrong across a truncation or replacement.
        """
        self.append_nowait(events)
        needed = self._polls_started + 1
        while self._polls_finished < needed:
            await self._caught_up.wait()
        return self.models.position

    def _wake_waiters(self) -> None:
        self._caught_up.set()
        self._caught_up = anyio.Event()

    async def _rebuild(self, reason: str) -> None:
        logger.warning("log %s was %s: rebuilding every read model", self.log.name, reason)
        self.reader = self.log.reader()
        self.models = await anyio.to_thread.run_sync(replay, self.reader)
        self.resets += 1
        self.bus.publish(LogReset(self.models.position, reason))
