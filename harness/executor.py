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

The parts: ``harness.run_claims`` (which runs execute here, writing with them
claimed), ``harness.run_pickup`` (what a pass takes up from the log),
``harness.run_execution`` (one run, start to end); this module holds the commands and
the loop that drives the passes.
"""

from __future__ import annotations

import logging

import anyio
from anyio.abc import TaskGroup

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
from harness.errors import Conflict, LogUnavailable
from harness.executor_lock import ExecutorLock, LockLost
from harness.leases import LocalLeases, RunLeases
from harness.live import LiveLog
from harness.providers import SharedHttpClient
from harness.run_claims import ActiveRun, Interrupted, RunClaims
from harness.run_execution import RunExecution
from harness.run_pickup import RunPickup
from harness.settings import Settings
from projections.queue import QueuedRun
from projections.state import RunRecord

logger = logging.getLogger("harness.executor")

PASS_S = 1.0
"""How often the executor looks at the log for work it was not told of in this process:
runs other servers created, retried or asked to cancel; runs other writers queued."""
LOCK_RETRY_S = 1.0
CANCEL_WAIT_S = 30.0
"""How long a cancel sent to a server that does not execute waits for the executing
one to end the run, before it answers with the run as it is (cancel requested)."""


class Executor:
    """Creates, runs, cancels and retries runs; dispatches the queue.

    ``run`` must be running (started with ``await task_group.start(executor.run)``,
    after the ``LiveLog`` has started and is following the log) before any command.
    ``lock`` decides whether this process executes; ``http_client`` is handed to
    providers that call out over HTTP.
    """

    def __init__(self, live: LiveLog, catalog: DatasetCatalog, settings: Settings, *,
                 lock: ExecutorLock, http_client: SharedHttpClient | None = None,
                 leases: RunLeases | None = None) -> None:
        self.live = live
        self.catalog = catalog
        self.settings = settings
        self.lock = lock
        self.leases: RunLeases = leases or LocalLeases()
        self._claims = RunClaims(live, self.leases)
        self._execution = RunExecution(self._claims, catalog, settings,
                                       http_client=http_client,
                                       ended=lambda: self._wake.set())
        self._pickup = RunPickup(self._claims, catalog, settings, launch=self._launch)
        self._tasks: TaskGroup | None = None
        self._wake = anyio.Event()

    @property
    def executing(self) -> bool:
        """Whether runs execute in this process right now."""
        return self._tasks is not None

    def status(self) -> ExecutorStatus:
        return ExecutorStatus(
            executing=self.executing,
            lock_holder=None if self.lock.held else self.lock.holder(),
            waiting_to_write=self._claims.waiting_to_write())

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
        pickup = self._pickup
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                # Whatever ran before this start was interrupted: resumed, not retried.
                for record in pickup.own_active_runs():
                    if record.info.status == "running":
                        self._claims.interrupted.setdefault(record.info.id, Interrupted())
                await pickup.take_up_runs()
                if self.leases.shared:
                    tasks.start_soon(pickup.keep_leases, name="run leases")
                task_status.started()
                while True:
                    self._wake = anyio.Event()
                    if not self.lock.still_ours():
                        self.lock.release()
                        raise LockLost(f"{self.lock.path} was deleted or replaced: stepping "
                                       "down, so that only one process executes")
                    try:
                        await pickup.take_up_runs()
                        await pickup.dispatch_queued()
                    except (LogUnavailable, OSError) as error:  # OSError: a lease's KV
                        logger.warning("the log refused a write (%s); trying again", error)
                    with anyio.move_on_after(PASS_S):
                        await self._wake.wait()
            finally:
                self._tasks = None

    # -- commands ------------------------------------------------------------------

    async def create(self, spec: RunSpec) -> RunRecord:
        claims = self._claims
        created = plan_create(spec, self.catalog, self.settings)
        if self.executing:
            await claims.lease(created.run_id)  # a new id: nobody else can hold it
            self._launch(await claims.append_claimed(created.run_id, [created]))
        else:  # the executing process takes it up from the log
            await claims.append([created])
        return find_run(self.live.models, created.run_id)

    async def cancel(self, run_id: str) -> RunRecord:
        """Cancel a pending or running run and return once it has finished."""
        claims = self._claims
        record = find_run(self.live.models, run_id)
        active = claims.active.get(run_id)
        if active is not None and active.canceling:
            raise Conflict(f"run {run_id} is already being canceled",
                           details={"status": record.info.status})
        cancel_requested = plan_cancel(record)
        if active is not None:
            active.canceling = True  # before the await: a second cancel meanwhile is a 409
            await claims.append([cancel_requested])
            active.scope.cancel()
            await active.done.wait()
        elif not is_own_run(record) or (self.executing
                                         and not await claims.held_elsewhere(run_id)):
            # Nothing executes it (another writer's run, or ours waiting to be taken up
            # or to write again): its end is ours to record, with the run claimed meanwhile.
            claim = await claims.append_claimed(
                run_id, [cancel_requested, *finish_canceled(record)])
            claims.release(claim)
        else:
            await claims.append([cancel_requested])
            await claims.until_finished(run_id, deadline_s=CANCEL_WAIT_S)
        return record

    async def retry(self, run_id: str) -> RunRecord:
        """Run a finished run's faulted and unfinished items again, in the same run."""
        claims = self._claims
        record = find_run(self.live.models, run_id)
        generation = self.live.position.generation
        # A finished run's items may be in the log alone: plan from them read back.
        resumed = plan_retry(await self.live.details.of(record, generation=generation))
        if run_id in claims.active:
            raise Conflict(f"run {run_id} is still finishing", details={"status": "running"})
        if self.executing:
            if not await claims.lease(run_id):
                raise Conflict(f"run {run_id} is being executed by another replica",
                               details={"status": record.info.status})
            if run_id in claims.active:
                # A retry sent at the same time claimed it while this one waited for the
                # lease (a key-value store answers after other requests ran). The lease
                # is this replica's, held for that retry: it stays.
                raise Conflict(f"run {run_id} is already being retried",
                               details={"status": "running"})
            try:
                self._launch(await claims.append_claimed(run_id, [resumed]))
            except BaseException:
                await self.leases.release(run_id)
                raise
        else:
            await claims.append([resumed])
        return record

    async def enqueue(self, spec: RunSpec) -> QueuedRun:
        enqueued = plan_enqueue(spec, self.catalog, self.settings)
        await self._claims.append([enqueued])
        self._wake.set()
        return QueuedRun(queue_id=enqueued.queue_id, spec=enqueued.spec,
                         enqueued_at=enqueued.ts)

    async def dequeue(self, queue_id: str) -> None:
        await self._claims.append([plan_dequeue(self.live.models, queue_id)])

    def _launch(self, active: ActiveRun) -> None:
        if self._tasks is None:  # the executor stopped meanwhile; its restart takes it up
            self._claims.release(active)
            return
        self._tasks.start_soon(self._execution.execute, active, name=f"run {active.run_id}")
