"""The live log: a reader, the read models and the bus, kept in step.

One task owns the read models. It wakes when the log may have changed, folds every new
batch of records into the read models, and publishes one ``LogBatch`` per batch — the
records for WebSocket clients and the encoded stream messages for SSE clients. When the
log becomes another history (truncated, replaced, rewritten) it rebuilds the read models
from the new history in a worker thread, swaps them in whole, and publishes a
``LogReset``; requests never see a model half rebuilt.

Nothing stops the reader: an OS error while reading (``EMFILE``, ``EIO``, …) is counted,
shown in ``/api/health`` and retried with backoff, and content never raises (see
``events.decoding``).

The server's own commands append through ``append``, which wakes the reader and
returns once the read models reflect the new records, so a command's response can show
its own effect; if the reader does not get there within the deadline, the command is
answered ``503 log_unavailable`` (its events are written; a replay will show them).
"""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread

from events.bus import Broadcast
from events.decoding import Record
from events.log import EventLog, LogGap, LogReader, RecordBatch, Rotation
from events.position import Position
from events.schema import Event
from harness.errors import LogUnavailable
from harness.heap import freeze_long_lived
from harness.readback import HistoryChanged, RunDetails, fold_batch, shed_finished_runs
from harness.snapshots import SnapshotStore
from projections import shedding
from projections.messages import StreamMessage, messages_for
from projections.problems import ProblemReport
from projections.readmodels import Applied, ReadModels

logger = logging.getLogger("harness.live")

REPLAY_BATCH_RECORDS = 1 << 30  # a replay is bounded by bytes alone
SHED_EVERY_EVENTS = 250_000
"""How often finished runs shed their details (``projections.shedding``), in events
folded: what a replay or the live models hold of finished runs' items is bounded by
about this many events' worth (~65 MB), whatever the history."""
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 5.0


@dataclass(frozen=True, eq=False)
class LogBatch:
    """What one batch of the log added: its records and the stream messages it caused."""

    position: Position
    records: list[Record]
    messages: list[StreamMessage]
    cache: dict[str, bytes | str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, eq=False)
class LogReset:
    """The log is another history now; subscribers must drop their state."""

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


async def replay(reader: LogReader, models: ReadModels | None = None, *,
                 details: RunDetails | None = None,
                 shed_every_events: int = SHED_EVERY_EVENTS) -> ReadModels:
    """Fold everything ``reader`` has not read yet into ``models`` (new ones by default),
    off the event loop. With ``details`` (reading ``reader``'s log), finished runs shed
    their details every ``shed_every_events`` events on the way, so that a replay's
    memory does not grow with the history's items, and a shed run that changes again is
    read back first. A rotation met on the way starts the models over."""
    models = models or ReadModels()
    next_shed = models.events_applied + shed_every_events
    with cyclic_gc_paused():
        while True:
            batch = await reader.read(max_records=REPLAY_BATCH_RECORDS)
            if batch is None:
                return models
            if isinstance(batch, Rotation):
                models = ReadModels()
                next_shed = shed_every_events
                continue
            await fold_batch(models, batch, details, keep_records=False, in_thread=True,
                             each=lambda applied: log_problems(applied.problems))
            if details is not None and models.events_applied >= next_shed:
                # The models are this replay's alone until it returns: shed in one go.
                await anyio.to_thread.run_sync(shedding.shed_finished, models)
                next_shed = models.events_applied + shed_every_events


def log_problems(problems: Iterable[ProblemReport]) -> None:
    """Each line that could not be read or applied, once, when it is first read."""
    for report in problems:
        logger.warning("skipped log line at %s (%s): %s", report.position, report.kind,
                       report.message)


class LiveLog:
    """The read models of ``log``, kept current, with a bus of their changes.

    ``bus_buffer`` is how many batches a subscriber may lag before it is dropped;
    ``append_deadline_s`` how long ``append`` waits for the reader before it answers
    ``LogUnavailable``.
    """

    def __init__(self, log: EventLog, *, bus_buffer: int = 1024,
                 append_deadline_s: float = 5.0) -> None:
        self.log = log
        self.bus: Broadcast[LogBatch | LogReset] = Broadcast(buffer_size=bus_buffer)
        self.append_deadline_s = append_deadline_s
        self.reader = log.reader()
        self._unfinished: RecordBatch | None = None  # a batch whose fold an OS error cut short
        self.models = ReadModels()
        self.details = RunDetails(log)  # finished runs' details, read back from the log
        self._next_shed = SHED_EVERY_EVENTS  # once its models have applied this many
        self.resets = 0
        self.events_in_snapshot = 0  # events of the snapshot start-up loaded, if any
        self.reader_errors = 0  # OS errors met while reading, each retried
        self.reader_error: str | None = None  # the last one, while it lasts
        self._polls_started = 0
        self._polls_finished = 0
        self._caught_up = anyio.Event()

    @property
    def position(self) -> Position:
        return self.models.position

    async def start(self, *, snapshots: SnapshotStore | None = None) -> None:
        """Fold everything already in the log: from the newest valid snapshot in
        ``snapshots`` and the records after it, or else the whole log. An OS error leaves
        the rest to ``run``, which retries: start-up never fails on the log."""
        try:
            loaded = None
            if snapshots is not None:
                end = await self.log.current()
                loaded = await anyio.to_thread.run_sync(functools.partial(
                    snapshots.load, end, record_at=self._record_at))
            if loaded is not None:
                self.events_in_snapshot = loaded.models.events_applied
                logger.info("read models from %s at %s; replaying the rest of %s",
                            loaded.path.name, loaded.models.position, self.log.name)
                await self.reader.aclose()
                self.reader = self.log.reader(after=loaded.models.position)
                try:
                    self.models = await replay(self.reader, loaded.models, details=self.details)
                except HistoryChanged as error:  # the snapshot outlived its history
                    logger.warning("%s; replaying the whole log instead", error.message)
                    await self.reader.aclose()
                    self.reader = self.log.reader()
                    self.models = await replay(self.reader, details=self.details)
            else:
                self.models = await replay(self.reader, details=self.details)
        except OSError as error:
            self._failed(error)
        self._next_shed = self.models.events_applied + SHED_EVERY_EVENTS
        freeze_long_lived()

    def _record_at(self, position: Position) -> bytes | None:
        """The log's record ending at ``position``, from a worker thread."""
        return anyio.from_thread.run(self.log.read_at, [position])[0]

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """Follow the log until cancelled; started once appends are being watched."""
        async with anyio.create_task_group() as tasks:
            await tasks.start(self.log.watch)
            task_status.started()
            delay = RETRY_FIRST_S
            while True:
                try:
                    await self.poll()
                except OSError as error:
                    self._failed(error)
                    await anyio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_S)
                    continue
                if self.reader_error is not None:
                    logger.warning("log %s readable again", self.log.name)
                    self.reader_error = None
                delay = RETRY_FIRST_S
                await self.log.changed()

    async def poll(self) -> None:
        """Apply whatever the log gained since the last poll."""
        self._polls_started += 1
        number = self._polls_started
        while True:
            # A batch cut short by an OS error reading a run back (EMFILE, EIO) is taken
            # up again where its fold stopped: the reader has already moved past it.
            batch = self._unfinished or await self.reader.read()
            if batch is None:
                break
            if isinstance(batch, Rotation):
                await self._rebuild(batch.reason)
                break
            self._unfinished = batch
            try:
                await fold_batch(self.models, batch, self.details, each=self._publish)
                self._unfinished = None
            except (LogGap, HistoryChanged) as lost:  # records lost, a history rewritten
                self._unfinished = None
                logger.error("log %s: %s", self.log.name, lost)
                await self.reader.aclose()
                self.reader = self.log.reader()
                await self._rebuild("gap" if isinstance(lost, LogGap) else "history changed")
                break
            # A short read runs on the loop (``events.filelog``): under a steady stream
            # of appends this loop would not let anything else in.
            await anyio.lowlevel.checkpoint()
        self._polls_finished = number
        self._wake_waiters()
        if self.models.events_applied >= self._next_shed:
            await shed_finished_runs(self.models)
            self._next_shed = self.models.events_applied + SHED_EVERY_EVENTS

    def _publish(self, applied: Applied) -> None:
        log_problems(applied.problems)
        if applied.changes is not None and self.bus.statistics().subscribers:
            self.bus.publish(LogBatch(applied.position, applied.records,
                                      messages_for(self.models, applied.changes)))

    async def append_nowait(self, events: Sequence[Event | dict[str, Any]]) -> Position:
        """Append ``events`` at once and wake the reader; the position after them."""
        position = await self.log.append(events)
        self.log.notify()
        return position

    async def append(self, events: Sequence[Event | dict[str, Any]]) -> Position:
        """Append ``events`` at once and wait until the read models include them.

        It waits for a poll that *started* after the write: that poll looks at the log
        as it is with the write in it, whether it then reads on or rebuilds from a new
        history. Comparing offsets instead goes wrong across a rotation.
        """
        await self.append_nowait(events)
        needed = self._polls_started + 1
        if self.append_deadline_s > 0:  # zero: not at all (a poll may end in this tick)
            with anyio.move_on_after(self.append_deadline_s):
                while self._polls_finished < needed:
                    await self._caught_up.wait()
                return self.models.position
        raise LogUnavailable(
            f"the log reader did not catch up within {self.append_deadline_s:g} s; the "
            "command was written and will show once it does",
            details={"readerError": self.reader_error})

    def _failed(self, error: OSError) -> None:
        self.reader_errors += 1
        if self.reader_error is None:
            logger.error("cannot read log %s (retrying): %s", self.log.name, error)
        self.reader_error = f"{type(error).__name__}: {error}"

    def _wake_waiters(self) -> None:
        self._caught_up.set()
        self._caught_up = anyio.Event()

    async def _rebuild(self, reason: str) -> None:
        """Fold the history the reader has started over at, and swap it in whole."""
        logger.warning("log %s: %s; rebuilding every read model", self.log.name, reason)
        self.details.forget_all()
        self.models = await replay(self.reader, details=self.details)
        self._next_shed = self.models.events_applied + SHED_EVERY_EVENTS
        freeze_long_lived()
        self.resets += 1
        self.bus.publish(LogReset(self.models.position, reason))
