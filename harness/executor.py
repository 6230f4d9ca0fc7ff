"""The executor: the commands that start, cancel and retry runs, and the tasks that run them.

A command validates against the read models, appends its events through
``LiveLog.append`` (which returns once the read models show them, so the answer to
the request shows its effect), and only then starts or stops tasks. The runs' own
events are appended as they happen, without waiting for the fold.

Every run executes in its own task inside one task group that ``run`` owns, under its
own cancel scope: canceling a run cancels its in-flight provider calls at once, and
they end as canceled faults. When the server itself stops, the task group is
cancelled without a word in the log, so that the runs it left ``running`` are resumed
at the next start (SPEC §7.4): their judged items are kept, the others run again.
Runs that other writers put in the log are theirs to run: the executor resumes only
the runs it created itself (``commands.is_own_run``).

Queued runs start, oldest first, whenever fewer than ``settings.max_runs`` runs are
executing here; runs created directly start at once but do take a slot.

Replicas (several servers on one JetStream log) share the runs through leases
(``harness.leases``): a run executes where its lease is held, taken before its first
event is appended and renewed while it runs. Every replica looks, once a second, for
runs that should be executing but whose lease is free (their replica died), takes the
lease, and resumes them as a restart would. A cancel sent to another replica reaches
the executing one through the log (``run_cancel_requested``). A replica that loses a
lease stops the run at once and writes nothing more for it: it is someone else's now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
import msgspec
from anyio.abc import TaskGroup

from events.schema import (
    Event,
    FinalStatus,
    ItemFaulted,
    QueueDispatched,
    RunFinished,
    RunResumed,
    RunStarted,
)
from events.writer import now_timestamp
from harness.commands import (
    RunSpec,
    find_run,
    finish_canceled,
    is_own_run,
    plan_cancel,
    plan_create,
    plan_dequeue,
    plan_enqueue,
    plan_retry,
    provider_config,
    run_concurrency,
    unfinished_sequences,
)
from harness.datasets import DatasetCatalog
from harness.errors import Conflict, HarnessError, LogUnavailable
from harness.item_runner import ItemRunner
from harness.leases import LocalLeases, RunLeases
from harness.live import LiveLog
from harness.providers import make_provider
from harness.settings import Settings
from projections.queue import QueuedRun
from projections.state import RunRecord

logger = logging.getLogger("harness.executor")

QUEUE_RECHECK_S = 1.0
CANCEL_CHECK_S = 0.2  # how soon a cancel sent to another replica stops the run here
CANCEL_WAIT_S = 30.0  # how long a cancel waits for the replica executing the run
CATCH_UP_S = 5.0  # how long a takeover waits for the fold to reach the log's end


@dataclass(eq=False)
class ActiveRun:
    """A run executing in this process."""

    run_id: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    canceling: bool = False
    lost: bool = False  # its lease went to another replica: write nothing more


def log_failure(error: BaseException) -> bool:
    """Whether ``error`` (or every error of a group) says the log cannot be used now."""
    if isinstance(error, BaseExceptionGroup):
        return all(log_failure(inner) for inner in error.exceptions)
    return isinstance(error, (OSError, LogUnavailable))


class Executor:
    """Creates, runs, cancels and retries runs; dispatches the queue.

    ``run`` must be running (started with ``await task_group.start(executor.run)``,
    after the ``LiveLog`` has started and is following the log) before any command.
    ``http_client`` is handed to providers that call out over HTTP.
    """

    def __init__(self, live: LiveLog, catalog: DatasetCatalog, settings: Settings, *,
                 http_client: Any = None, leases: RunLeases | None = None) -> None:
        self.live = live
        self.catalog = catalog
        self.settings = settings
        self.http_client = http_client
        self.leases: RunLeases = leases or LocalLeases()
        self._active: dict[str, ActiveRun] = {}
        self._tasks: TaskGroup | None = None
        self._queue_changed = anyio.Event()
        self._unrunnable: set[str] = set()
        self._interrupted: set[str] = set()  # stopped by a log outage: resumed once it ends

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """Resume the runs a previous server left running, then serve until cancelled."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                await self._resume_interrupted()
                if self.leases.shared:
                    tasks.start_soon(self._keep_leases, name="run leases")
                task_status.started()
                while True:
                    self._queue_changed = anyio.Event()
                    try:
                        await self._dispatch_queued()
                        if self.leases.shared or self._interrupted:
                            # Runs whose replica died, or that an outage stopped here.
                            await self._resume_interrupted(only=None if self.leases.shared
                                                           else set(self._interrupted))
                    except Exception as error:
                        if not log_failure(error):
                            raise
                        logger.warning("cannot dispatch or resume runs now: %s", error)
                    # The re-check also picks up runs other writers enqueued in the log.
                    with anyio.move_on_after(QUEUE_RECHECK_S):
                        await self._queue_changed.wait()
            finally:
                self._tasks = None

    # -- commands ------------------------------------------------------------------

    async def create(self, spec: RunSpec) -> RunRecord:
        tasks = self._running()
        created = plan_create(spec, self.catalog, self.settings)
        await self.leases.acquire(created.run_id)  # a new id: nobody else can hold it
        active = await self._append_claimed(created.run_id, [created])
        tasks.start_soon(self._execute, active, name=f"run {created.run_id}")
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
        await self.live.append([cancel_requested])
        if active is None and await self.leases.held_elsewhere(run_id):
            # Another replica executes it: it sees the request in the log and ends the run.
            await self._until_finished(run_id)
        elif active is None:
            # Not executing here (an outside writer's run): its end is ours to record.
            await self.live.append(finish_canceled(find_run(self.live.models, run_id)))
        else:
            active.scope.cancel()
            await active.done.wait()
        return record

    async def retry(self, run_id: str) -> RunRecord:
        """Run a finished run's faulted and unfinished items again, in the same run."""
        tasks = self._running()
        record = find_run(self.live.models, run_id)
        resumed = plan_retry(record)
        if run_id in self._active:
            raise Conflict(f"run {run_id} is still finishing", details={"status": "running"})
        if not await self.leases.acquire(run_id):
            raise Conflict(f"run {run_id} is being executed by another replica",
                           details={"status": record.info.status})
        try:
            active = await self._append_claimed(run_id, [resumed])
        except BaseException:
            await self.leases.release(run_id)
            raise
        tasks.start_soon(self._execute, active, name=f"run {run_id}")
        return record

    async def enqueue(self, spec: RunSpec) -> QueuedRun:
        enqueued = plan_enqueue(spec, self.catalog, self.settings)
        await self.live.append([enqueued])
        self._queue_changed.set()
        return QueuedRun(queue_id=enqueued.queue_id, spec=enqueued.spec,
                         enqueued_at=enqueued.ts)

    async def dequeue(self, queue_id: str) -> None:
        await self.live.append([plan_dequeue(self.live.models, queue_id)])

    # -- tasks -----------------------------------------------------------------------

    def _running(self) -> TaskGroup:
        if self._tasks is None:
            raise RuntimeError("the executor is not running")
        return self._tasks

    async def _append_claimed(self, run_id: str, events: list[Event]) -> ActiveRun:
        """Append ``events`` with the run claimed as this process's first, so that a
        command arriving during the append (a cancel, a second retry) sees it as ours."""
        active = self._active[run_id] = ActiveRun(run_id)
        try:
            await self.live.append(events)
        except BaseException:
            del self._active[run_id]
            raise
        return active

    def _start(self, tasks: TaskGroup, run_id: str) -> None:
        active = self._active[run_id] = ActiveRun(run_id)
        tasks.start_soon(self._execute, active, name=f"run {run_id}")

    async def _write(self, events: list[Event]) -> None:
        await self.live.append_nowait(events)

    async def _write_unless_lost(self, active: ActiveRun, events: list[Event]) -> None:
        if not active.lost:
            await self._write(events)

    async def _resume_interrupted(self, *, only: set[str] | None = None) -> None:
        """Take up the runs a previous server left pending or running (SPEC §7.4), or,
        of those, the ones in ``only``."""
        tasks = self._running()
        resumed: list[Event] = []
        starts: list[str] = []
        finished: list[str] = []
        candidates = [record.info.id for record in list(self.live.models.runs.order)
                      if record.active and is_own_run(record)  # not another writer's run
                      and record.info.id not in self._active
                      and (only is None or record.info.id in only)]
        for run_id in candidates:
            if self.leases.shared and len(self._active) + len(starts) >= self.settings.max_runs:
                break  # HARNESS_MAX_RUNS holds per replica: another may take the rest
            if not await self.leases.acquire(run_id):
                continue  # executing on another replica
            if self.leases.shared:
                # The lease may be free because the replica that ran the run has just
                # finished it: judge the run by the whole log, not by a fold behind it.
                await self._catch_up()
            record = self.live.models.runs.runs.get(run_id)
            if record is None or not record.active:
                await self.leases.release(run_id)
                continue
            if record.lifecycle.cancel_requested_at is not None:
                resumed.extend(finish_canceled(record))
                finished.append(run_id)
                continue
            if record.info.status == "running":
                resumed.append(RunResumed(run_id=run_id, ts=now_timestamp()))
            starts.append(run_id)
        if resumed:
            # Appended with the leases held, and waited for: the fold then shows every
            # event a dead holder managed to write, so no judged item runs again.
            await self.live.append(resumed)
        for run_id in finished:
            await self.leases.release(run_id)
        for run_id in starts:
            self._interrupted.discard(run_id)
            logger.info("resuming run %s", run_id)
            self._start(tasks, run_id)

    async def _dispatch_queued(self) -> None:
        tasks = self._running()
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
            await self.leases.acquire(created.run_id)
            await self.live.append([
                QueueDispatched(queue_id=queued.queue_id, run_id=created.run_id,
                                ts=created.ts),
                created,
            ])
            self._start(tasks, created.run_id)

    async def _execute(self, active: ActiveRun) -> None:
        run_id = active.run_id
        status: FinalStatus = "canceled"
        error: str | None = None
        try:
            with active.scope:
                status, error = await self._run_items(active)
            if not active.lost:
                await self.live.append([RunFinished(run_id=run_id, status=status, error=error,
                                                    ts=now_timestamp())])
        except Exception as crash:  # one run's bug must not stop the others
            if log_failure(crash):
                # Not the run's fault: it resumes, here or on another replica, once the
                # log is back (its lease, not renewed, expires meanwhile).
                logger.error("run %s stopped: cannot write to the log (%s)", run_id, crash)
                active.lost = True
                self._interrupted.add(run_id)
                return
            logger.exception("run %s crashed", run_id)
            if not active.lost:
                await self.live.append([RunFinished(run_id=run_id, status="failed",
                                                    error=f"internal error: {crash!r}",
                                                    ts=now_timestamp())])
        finally:
            del self._active[run_id]
            active.done.set()
            self._queue_changed.set()
            if not active.lost:
                with anyio.CancelScope(shield=True):
                    await self.leases.release(run_id)

    async def _keep_leases(self) -> None:
        """Renew the leases of the runs executing here; stop a run whose lease is lost,
        and one that another replica was asked to cancel."""
        renewed_at = anyio.current_time()
        while True:
            await anyio.sleep(CANCEL_CHECK_S)
            for active in list(self._active.values()):
                record = self.live.models.runs.runs.get(active.run_id)
                if (record is not None and record.lifecycle.cancel_requested_at is not None
                        and not active.canceling):
                    active.canceling = True  # asked through another replica
                    active.scope.cancel()
            if anyio.current_time() - renewed_at < self.leases.renew_every_s:
                continue
            renewed_at = anyio.current_time()
            for active in list(self._active.values()):
                if not await self.leases.renew(active.run_id):
                    logger.error("run %s: lease lost; another replica takes it over",
                                 active.run_id)
                    active.lost = True
                    active.scope.cancel()

    async def _catch_up(self) -> None:
        """Until the fold holds everything the log holds now (``CATCH_UP_S`` at most)."""
        end = await self.live.log.current()
        self.live.log.notify()
        with anyio.move_on_after(CATCH_UP_S):
            while (self.live.position.generation != end.generation
                   or self.live.position.offset < end.offset):
                await anyio.sleep(CANCEL_CHECK_S / 10)

    async def _until_finished(self, run_id: str) -> None:
        """Until the fold shows ``run_id`` finished (the replica executing it ended it)."""
        with anyio.move_on_after(CANCEL_WAIT_S):
            while find_run(self.live.models, run_id).active:
                await anyio.sleep(CANCEL_CHECK_S)

    async def _run_items(self, active: ActiveRun) -> tuple[FinalStatus, str | None]:
        """Run the run's unfinished items; its final status and error."""
        record = find_run(self.live.models, active.run_id)
        if record.info.status == "pending":
            await self._write([RunStarted(run_id=active.run_id, ts=now_timestamp())])
        try:
            dataset = self.catalog.load(record.info.dataset_name)
            provider = make_provider(record.info.provider_name, self.settings,
                                     http_client=self.http_client)
        except HarnessError as error:
            return "failed", error.message
        items = {item.sequence: item for item in dataset.items}
        todo = unfinished_sequences(record)
        attempts = {sequence: record.item(sequence).attempts for sequence in todo}
        runner = ItemRunner(run_id=active.run_id, provider=provider,
                            model=record.info.model_name,
                            config=provider_config(record.config),
                            write=lambda events: self._write_unless_lost(active, events),
                            canceling=lambda: active.canceling)
        errors: list[str] = []
        work = iter(todo)

        async def worker() -> None:
            for sequence in work:
                item = items.get(sequence)
                error: str | None
                if item is None:
                    error = f"dataset {dataset.name} no longer has item {sequence}"
                    await self._write([ItemFaulted(run_id=active.run_id, sequence=sequence,
                                             error=error, ts=now_timestamp())])
                else:
                    error = await runner.run(item, attempt=attempts[sequence] + 1)
                if error is not None:
                    errors.append(error)
                # A provider that never waits must not starve the server's requests.
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as workers:
            for _ in range(min(run_concurrency(record.config), len(todo))):
                workers.start_soon(worker)
        if record.total and len(errors) == len(todo) == record.total:
            return "failed", f"every item faulted; the last: {errors[-1]}"
        return "completed", None
