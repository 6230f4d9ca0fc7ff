"""The executor: the commands that start, cancel and retry runs, and the tasks that run them.

A command validates against the read models, appends its events through
``LiveLog.append`` (which returns once the read models show them, so the answer to
the request shows its effect), and only then starts or stops tasks. The runs' own
events are appended as they happen, without waiting for the fold.

One process executes the runs of a data directory: the one holding its
``ExecutorLock``. It executes every run a harness server created in the log (those
with a concurrency in their config, ``commands.is_own_run``), including those other
servers on the same directory created, retried or asked to cancel: it takes them up
from the log on its next pass (at most ``PASS_S`` later). A server without the lock
records commands in the log and leaves the rest to the holder, trying for the lock
every ``LOCK_RETRY_S`` so that it takes over when the holder exits. Runs that other
writers put in the log are theirs to run.

Every run executes in its own task inside one task group that ``run`` owns, under its
own cancel scope: canceling a run cancels its in-flight provider calls at once, and
they end as canceled faults. When the server itself stops, the task group is
cancelled without a word in the log, so that the runs it left ``running`` are resumed
at the next start (SPEC §7.4): judged and faulted items are kept, answered ones are
judged without asking the model again, the others run again.

A write the log refuses (a full disk) stops only the run that made it, with nothing
more written; the run is resumed the same way once the log takes writes again, tried
after a delay that doubles from ``WRITE_RETRY_FIRST_S`` to ``WRITE_RETRY_MAX_S``.

Queued runs start, oldest first, whenever fewer than ``settings.max_runs`` runs are
executing here; runs created directly start at once but do take a slot.

Replicas (servers on one JetStream log, each with its own data directory, so each
executing) share the runs through leases (``harness.leases``): a run executes where its
lease is held, taken before its first event is appended and renewed while it runs. A
pass takes up a run only with its lease, so a dead replica's runs are taken over once
their leases expire, and resumed as a restart would. A replica that loses a lease stops
the run at once and writes nothing more for it: it is someone else's now.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskGroup

from events.schema import (
    Event,
    FinalStatus,
    QueueDispatched,
    RunFinished,
    RunResumed,
    RunStarted,
)
from events.writer import now_timestamp
from harness.api_shapes import ExecutorStatus, RunSpec
from harness.commands import (
    find_run,
    finish_canceled,
    is_own_run,
    plan_cancel,
    plan_create,
    plan_dequeue,
    plan_enqueue,
    plan_retry,
)
from harness.datasets import DatasetCatalog
from harness.errors import Conflict, HarnessError, LogUnavailable, WriteRefused, write_failed
from harness.executor_lock import ExecutorLock, LockLost
from harness.leases import LocalLeases, RunLeases
from harness.live import LiveLog
from harness.run_items import run_items
from harness.settings import Settings
from projections.queue import QueuedRun
from projections.state import RunRecord

logger = logging.getLogger("harness.executor")

PASS_S = 1.0
"""How often the executor looks at the log for work it was not told of in this process:
runs other servers created, retried or asked to cancel; runs other writers queued."""
LOCK_RETRY_S = 1.0
FOLLOW_POLL_S = 0.05
CATCH_UP_S = 5.0  # how long a takeover waits for the fold to reach the log's end
CANCEL_WAIT_S = 30.0
"""How long a cancel sent to a server that does not execute waits for the executing
one to end the run, before it answers with the run as it is (cancel requested)."""
WRITE_RETRY_FIRST_S = 0.25
WRITE_RETRY_MAX_S = 5.0


@dataclass(eq=False)
class ActiveRun:
    """A run executing in this process; ``resume`` when it was interrupted (SPEC §7.4
    keeps its faulted items) rather than started or retried."""

    run_id: str
    resume: bool = False
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    canceling: bool = False
    lost: bool = False  # its lease went to another replica: write nothing more


@dataclass(eq=False)
class Interrupted:
    """A run that stopped because the log refused a write, waiting to be resumed."""

    error: str = "interrupted"
    failures: int = 0
    retry_at: float = float("-inf")


class Executor:
    """Creates, runs, cancels and retries runs; dispatches the queue.

    ``run`` must be running (started with ``await task_group.start(executor.run)``,
    after the ``LiveLog`` has started and is following the log) before any command.
    ``lock`` decides whether this process executes; ``http_client`` is handed to
    providers that call out over HTTP.
    """

    def __init__(self, live: LiveLog, catalog: DatasetCatalog, settings: Settings, *,
                 lock: ExecutorLock, http_client: Any = None,
                 leases: RunLeases | None = None) -> None:
        self.live = live
        self.catalog = catalog
        self.settings = settings
        self.lock = lock
        self.http_client = http_client
        self.leases: RunLeases = leases or LocalLeases()
        self._active: dict[str, ActiveRun] = {}
        self._interrupted: dict[str, Interrupted] = {}
        self._tasks: TaskGroup | None = None
        self._wake = anyio.Event()
        self._unrunnable: set[str] = set()

    @property
    def executing(self) -> bool:
        """Whether runs execute in this process right now."""
        return self._tasks is not None

    def status(self) -> ExecutorStatus:
        return ExecutorStatus(
            executing=self.executing,
            lock_holder=None if self.lock.held else self.lock.holder(),
            waiting_to_write={run_id: waiting.error
                              for run_id, waiting in self._interrupted.items()
                              if run_id not in self._active})

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """Execute until cancelled once this process holds the lock (serving commands
        for the holder until then); first resume the runs left running."""
        if not self.lock.try_acquire():
            task_status.started()
            task_status = anyio.TASK_STATUS_IGNORED
            while not self.lock.try_acquire():
                await anyio.sleep(LOCK_RETRY_S)
            logger.warning("the executor of %s has gone: this server executes its runs now",
                           self.settings.data_dir)
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                # Whatever ran before this start was interrupted: resumed, not retried.
                for record in self._own_active_runs():
                    if record.info.status == "running":
                        self._interrupted.setdefault(record.info.id, Interrupted())
                await self._take_up_runs()
                if self.leases.shared:
                    tasks.start_soon(self._keep_leases, name="run leases")
                task_status.started()
                while True:
                    self._wake = anyio.Event()
                    if not self.lock.still_ours():
                        self.lock.release()
                        raise LockLost(f"{self.lock.path} was deleted or replaced: stepping "
                                       "down, so that only one process executes")
                    try:
                        await self._take_up_runs()
                        await self._dispatch_queued()
                    except (LogUnavailable, OSError) as error:  # OSError: a lease's KV
                        logger.warning("the log refused a write (%s); trying again", error)
                    with anyio.move_on_after(PASS_S):
                        await self._wake.wait()
            finally:
                self._tasks = None

    # -- commands ------------------------------------------------------------------

    async def create(self, spec: RunSpec) -> RunRecord:
        created = plan_create(spec, self.catalog, self.settings)
        if self.executing:
            await self._lease(created.run_id)  # a new id: nobody else can hold it
            self._launch(await self._append_claimed(created.run_id, [created]))
        else:  # the executing process takes it up from the log
            await self._append([created])
        return find_run(self.live.models, created.run_id)

    async def cancel(self, run_id: str) -> RunRecord:
        """Cancel a pending or running run and return once it has finished."""
        record = find_run(self.live.models, run_id)
        active = self._active.get(run_id)
        if active is not None and active.canceling:
            raise Conflict(f"run {run_id} is already being canceled",
                           details={"status": record.info.status})
        cancel_requested = plan_cancel(record)
        if active is not None:
            active.canceling = True  # before the await: a second cancel meanwhile is a 409
            await self._append([cancel_requested])
            active.scope.cancel()
            await active.done.wait()
        elif not is_own_run(record) or (self.executing
                                         and not await self._held_elsewhere(run_id)):
            # Nothing executes it (another writer's run, or ours waiting to be taken up
            # or to write again): its end is ours to record, with the run claimed meanwhile.
            claim = await self._append_claimed(
                run_id, [cancel_requested, *finish_canceled(record)])
            self._release(claim)
        else:
            await self._append([cancel_requested])
            await self._until_finished(run_id, deadline_s=CANCEL_WAIT_S)
        return record

    async def retry(self, run_id: str) -> RunRecord:
        """Run a finished run's faulted and unfinished items again, in the same run."""
        record = find_run(self.live.models, run_id)
        resumed = plan_retry(record)
        if run_id in self._active:
            raise Conflict(f"run {run_id} is still finishing", details={"status": "running"})
        if self.executing:
            if not await self._lease(run_id):
                raise Conflict(f"run {run_id} is being executed by another replica",
                               details={"status": record.info.status})
            try:
                self._launch(await self._append_claimed(run_id, [resumed]))
            except BaseException:
                await self.leases.release(run_id)
                raise
        else:
            await self._append([resumed])
        return record

    async def enqueue(self, spec: RunSpec) -> QueuedRun:
        enqueued = plan_enqueue(spec, self.catalog, self.settings)
        await self._append([enqueued])
        self._wake.set()
        return QueuedRun(queue_id=enqueued.queue_id, spec=enqueued.spec,
                         enqueued_at=enqueued.ts)

    async def dequeue(self, queue_id: str) -> None:
        await self._append([plan_dequeue(self.live.models, queue_id)])

    # -- writing -----------------------------------------------------------------------

    async def _append(self, events: list[Event]) -> None:
        try:
            await self.live.append(events)
        except OSError as error:
            raise write_failed(error) from error

    async def _write(self, events: list[Event]) -> None:
        try:
            await self.live.append_nowait(events)
        except OSError as error:
            raise write_failed(error) from error

    async def _lease(self, run_id: str) -> bool:
        """Take the run's lease (``False``: another replica holds it); an unreachable
        lease store refuses like the log would."""
        try:
            return await self.leases.acquire(run_id)
        except OSError as error:
            raise write_failed(error) from error

    async def _held_elsewhere(self, run_id: str) -> bool:
        try:
            return await self.leases.held_elsewhere(run_id)
        except OSError as error:
            raise write_failed(error) from error

    async def _append_claimed(self, run_id: str, events: list[Event], *,
                              resume: bool = False) -> ActiveRun:
        """Append ``events`` with the run claimed as this process's first, so that a
        command or a pass arriving during the append sees it as taken."""
        active = self._active[run_id] = ActiveRun(run_id, resume=resume)
        try:
            await self._append(events)
        except BaseException:
            self._release(active)
            raise
        return active

    def _release(self, active: ActiveRun) -> None:
        if self._active.get(active.run_id) is active:
            del self._active[active.run_id]

    def _launch(self, active: ActiveRun) -> None:
        if self._tasks is None:  # the executor stopped meanwhile; its restart takes it up
            self._release(active)
            return
        self._tasks.start_soon(self._execute, active, name=f"run {active.run_id}")

    async def _until_finished(self, run_id: str, *, deadline_s: float) -> None:
        """Until the read models show the run ended (or gone: the log was replaced)."""
        with anyio.move_on_after(deadline_s):
            while (record := self.live.models.runs.runs.get(run_id)) and record.active:
                await anyio.sleep(FOLLOW_POLL_S)

    # -- taking up work from the log ------------------------------------------------------

    def _own_active_runs(self) -> list[RunRecord]:
        return [record for record in self.live.models.runs.index.active_runs()
                if is_own_run(record)]

    async def _take_up_runs(self) -> None:
        """Start every run that should execute here and does not, and cancel those that
        another server was asked to cancel."""
        now = anyio.current_time()
        runs = self.live.models.runs.runs
        for run_id in [r for r in self._interrupted if r not in runs or not runs[r].active]:
            del self._interrupted[run_id]  # ended meanwhile (canceled, or the log replaced)
        for record in self._own_active_runs():
            run_id = record.info.id
            active = self._active.get(run_id)
            if active is not None:
                if record.lifecycle.cancel_requested_at is not None and not active.canceling:
                    active.canceling = True  # asked through another server
                    active.scope.cancel()
                continue
            waiting = self._interrupted.get(run_id)
            if waiting is not None and waiting.retry_at > now:
                continue
            try:
                if self.leases.shared:
                    taken = await self._take_over(run_id)
                    if taken is None:
                        continue
                    # A running run whose lease was free stopped with its replica.
                    record, waiting = taken, waiting or (
                        Interrupted() if taken.info.status == "running" else None)
                await self._take_up(record, interrupted=waiting is not None)
            except WriteRefused as error:
                self._note_write_failure(run_id, error)

    async def _take_over(self, run_id: str) -> RunRecord | None:
        """The run, with its lease taken, if it is free and the run still needs a
        replica; ``None`` if another holds it, it has ended, or no slot is free here
        (``HARNESS_MAX_RUNS`` counts per replica)."""
        if len(self._active) >= self.settings.max_runs or not await self._lease(run_id):
            return None
        # The lease may be free because the replica that ran the run has just finished
        # it: judge the run by the whole log, not by a fold behind it.
        end = await self.live.log.current()
        self.live.log.notify()
        with anyio.move_on_after(CATCH_UP_S):
            while (self.live.position.generation != end.generation
                   or self.live.position.offset < end.offset):
                await anyio.sleep(FOLLOW_POLL_S)
        record = self.live.models.runs.runs.get(run_id)
        if record is None or not record.active or run_id in self._active:
            await self.leases.release(run_id)
            return None
        return record

    async def _keep_leases(self) -> None:
        """Renew the leases of the runs executing here; stop a run whose lease is lost."""
        while True:
            await anyio.sleep(self.leases.renew_every_s)
            for active in list(self._active.values()):
                if not await self.leases.renew(active.run_id):
                    logger.error("run %s: lease lost; another replica takes it over",
                                 active.run_id)
                    active.lost = True
                    active.scope.cancel()

    async def _take_up(self, record: RunRecord, *, interrupted: bool) -> None:
        run_id = record.info.id
        if record.lifecycle.cancel_requested_at is not None:
            # Asked to cancel while nothing executed it (its server died while canceling).
            self._release(await self._append_claimed(run_id, finish_canceled(record)))
            self._interrupted.pop(run_id, None)
        elif interrupted and record.info.status == "running":
            logger.info("resuming run %s", run_id)
            self._launch(await self._append_claimed(
                run_id, [RunResumed(run_id=run_id, ts=now_timestamp())], resume=True))
        else:
            # Pending (created elsewhere, or never started), or retried elsewhere (the
            # other server appended its run_resumed).
            self._active[run_id] = active = ActiveRun(run_id)
            self._launch(active)

    def _note_write_failure(self, run_id: str, error: WriteRefused) -> None:
        waiting = self._interrupted.setdefault(run_id, Interrupted())
        waiting.failures += 1
        waiting.error = error.message
        delay_s = min(WRITE_RETRY_FIRST_S * 2 ** (waiting.failures - 1), WRITE_RETRY_MAX_S)
        waiting.retry_at = anyio.current_time() + delay_s
        logger.warning("run %s stopped: %s; resuming it in %.2f s", run_id, error.message,
                       delay_s)

    async def _dispatch_queued(self) -> None:
        for queued in self.live.models.queue.items():
            if len(self._active) >= self.settings.max_runs:
                return
            try:
                spec = msgspec.convert(queued.spec, RunSpec)
                created = plan_create(spec, self.catalog, self.settings)
            except (msgspec.ValidationError, HarnessError) as error:
                # Valid when enqueued here but no longer (its dataset was removed), or
                # enqueued by another writer: it stays listed until someone removes it.
                if queued.queue_id not in self._unrunnable:
                    self._unrunnable.add(queued.queue_id)
                    logger.warning("queued run %s cannot start: %s", queued.queue_id, error)
                continue
            if not await self.leases.claim_queued(queued.queue_id):
                continue  # another replica is dispatching it
            await self._lease(created.run_id)
            self._launch(await self._append_claimed(created.run_id, [
                QueueDispatched(queue_id=queued.queue_id, run_id=created.run_id,
                                ts=created.ts),
                created,
            ]))

    # -- executing -----------------------------------------------------------------------

    async def _execute(self, active: ActiveRun) -> None:
        run_id = active.run_id
        status: FinalStatus = "canceled"
        error: str | None = None
        try:
            try:
                with active.scope:
                    status, error = await self._run_items(active)
            except Exception as crash:  # one run's bug must not stop the others
                if _refused_write(crash) is not None:
                    raise
                logger.exception("run %s crashed", run_id)
                status, error = "failed", f"internal error: {crash!r}"
            if active.lost:
                return  # another replica executes it now
            try:
                await self._append([RunFinished(run_id=run_id, status=status, error=error,
                                                ts=now_timestamp())])
            except LogUnavailable as unseen:
                if isinstance(unseen, WriteRefused):
                    raise
                # Written, but the reader has not shown it yet: the run stays claimed
                # until it does, so that no pass takes it up again meanwhile.
                await self._until_finished(run_id, deadline_s=math.inf)
            self._interrupted.pop(run_id, None)
        except Exception as failure:
            refused = _refused_write(failure)
            if refused is None:
                raise
            self._note_write_failure(run_id, refused)
        finally:
            self._release(active)
            active.done.set()
            self._wake.set()
            if not active.lost and run_id not in self._interrupted:
                with anyio.CancelScope(shield=True):
                    await _quietly(self.leases.release(run_id))

    async def _run_items(self, active: ActiveRun) -> tuple[FinalStatus, str | None]:
        """Run the run's unfinished items; its final status and error."""
        record = find_run(self.live.models, active.run_id)
        if record.info.status == "pending":
            await self._write([RunStarted(run_id=active.run_id, ts=now_timestamp())])
        return await run_items(record, resume=active.resume, catalog=self.catalog,
                               settings=self.settings, http_client=self.http_client,
                               write=lambda events: self._write_unless_lost(active, events),
                               canceling=lambda: active.canceling)

    async def _write_unless_lost(self, active: ActiveRun, events: list[Event]) -> None:
        if not active.lost:  # not even the delta a runner flushes on its way out
            await self._write(events)


async def _quietly(release: Awaitable[None]) -> None:
    """A lease released on the way out; one that cannot be expires by itself."""
    try:
        await release
    except OSError as error:
        logger.warning("could not release a run lease (it expires): %s", error)


def _refused_write(error: BaseException) -> WriteRefused | None:
    """The refused write that stopped a run, raised alone or from its task groups."""
    if isinstance(error, WriteRefused):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            if (found := _refused_write(inner)) is not None:
                return found
    return None
