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
from harness.errors import Conflict, HarnessError
from harness.item_runner import ItemRunner
from harness.live import LiveLog
from harness.providers import make_provider
from harness.settings import Settings
from projections.queue import QueuedRun
from projections.state import RunRecord

logger = logging.getLogger("harness.executor")

QUEUE_RECHECK_S = 1.0


@dataclass(eq=False)
class ActiveRun:
    """A run executing in this process."""

    run_id: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    done: anyio.Event = field(default_factory=anyio.Event)
    canceling: bool = False


class Executor:
    """Creates, runs, cancels and retries runs; dispatches the queue.

    ``run`` must be running (started with ``await task_group.start(executor.run)``,
    after the ``LiveLog`` has started and is following the log) before any command.
    ``http_client`` is handed to providers that call out over HTTP.
    """

    def __init__(self, live: LiveLog, catalog: DatasetCatalog, settings: Settings, *,
                 http_client: Any = None) -> None:
        self.live = live
        self.catalog = catalog
        self.settings = settings
        self.http_client = http_client
        self._active: dict[str, ActiveRun] = {}
        self._tasks: TaskGroup | None = None
        self._queue_changed = anyio.Event()
        self._unrunnable: set[str] = set()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                  ) -> None:
        """Resume the runs a previous server left running, then serve until cancelled."""
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                await self._resume_interrupted()
                task_status.started()
                while True:
                    self._queue_changed = anyio.Event()
                    await self._dispatch_queued()
                    # The re-check also picks up runs other writers enqueued in the log.
                    with anyio.move_on_after(QUEUE_RECHECK_S):
                        await self._queue_changed.wait()
            finally:
                self._tasks = None

    # -- commands ------------------------------------------------------------------

    async def create(self, spec: RunSpec) -> RunRecord:
        tasks = self._running()
        created = plan_create(spec, self.catalog, self.settings)
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
        if active is None:
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
        active = await self._append_claimed(run_id, [resumed])
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

    async def _resume_interrupted(self) -> None:
        """Take up the runs a previous server left pending or running (SPEC §7.4)."""
        tasks = self._running()
        resumed: list[Event] = []
        starts: list[str] = []
        for record in self.live.models.runs.order:
            if not record.active or not is_own_run(record):
                continue  # finished, or another writer's run that it may still be running
            run_id = record.info.id
            if record.lifecycle.cancel_requested_at is not None:
                resumed.extend(finish_canceled(record))
                continue
            if record.info.status == "running":
                resumed.append(RunResumed(run_id=run_id, ts=now_timestamp()))
            starts.append(run_id)
        if resumed:
            await self.live.append(resumed)
        for run_id in starts:
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
            await self.live.append([RunFinished(run_id=run_id, status=status, error=error,
                                                ts=now_timestamp())])
        except Exception as crash:  # one run's bug must not stop the others
            logger.exception("run %s crashed", run_id)
            await self.live.append([RunFinished(run_id=run_id, status="failed",
                                                error=f"internal error: {crash!r}",
                                                ts=now_timestamp())])
        finally:
            del self._active[run_id]
            active.done.set()
            self._queue_changed.set()

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
                            config=provider_config(record.config), write=self._write,
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
