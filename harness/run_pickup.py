"""Taking up work from the log: what a pass of the executor starts, resumes or cancels.

The executing process takes up every run a harness server created in the log (those
with a concurrency in their config, ``commands.is_own_run``) and nothing executes here,
including those other servers on the same directory created, retried or asked to
cancel; runs that other writers put in the log are theirs to run. Queued runs start,
oldest first, whenever fewer than ``settings.max_runs`` runs are executing here.

Replicas (servers on one JetStream log) share the runs through leases
(``harness.leases``): a pass takes up a run only with its lease, so a dead replica's
runs are taken over once their leases expire, and resumed as a restart would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import msgspec

from events.schema import QueueDispatched, RunResumed
from events.writer import now_timestamp
from harness.api_shapes import RunSpec
from harness.commands import finish_canceled, is_own_run, plan_create
from harness.datasets import DatasetCatalog
from harness.errors import HarnessError, WriteRefused
from harness.run_claims import FOLLOW_POLL_S, ActiveRun, Interrupted, RunClaims
from harness.settings import Settings
from projections.state import RunRecord

logger = logging.getLogger("harness.executor")

CATCH_UP_S = 5.0  # how long a takeover waits for the fold to reach the log's end


class RunPickup:
    """Finds the work in the log that should execute here and hands it to ``launch``."""

    def __init__(self, claims: RunClaims, catalog: DatasetCatalog, settings: Settings, *,
                 launch: Callable[[ActiveRun], None]) -> None:
        self.claims = claims
        self.catalog = catalog
        self.settings = settings
        self._launch = launch
        self._unrunnable: set[str] = set()

    def own_active_runs(self) -> list[RunRecord]:
        return [record for record in self.claims.live.models.runs.index.active_runs()
                if is_own_run(record)]

    async def take_up_runs(self) -> None:
        """Start every run that should execute here and does not, and cancel those that
        another server was asked to cancel."""
        claims = self.claims
        now = anyio.current_time()
        runs = claims.live.models.runs.runs
        for run_id in [r for r in claims.interrupted if r not in runs or not runs[r].active]:
            del claims.interrupted[run_id]  # ended meanwhile (canceled, or the log replaced)
        for record in self.own_active_runs():
            run_id = record.info.id
            active = claims.active.get(run_id)
            if active is not None:
                if record.lifecycle.cancel_requested_at is not None and not active.canceling:
                    active.canceling = True  # asked through another server
                    active.scope.cancel()
                continue
            waiting = claims.interrupted.get(run_id)
            if waiting is not None and waiting.retry_at > now:
                continue
            try:
                if claims.leases.shared:
                    taken = await self._take_over(run_id)
                    if taken is None:
                        continue
                    # A running run whose lease was free stopped with its replica.
                    record, waiting = taken, waiting or (
                        Interrupted() if taken.info.status == "running" else None)
                await self._take_up(record, interrupted=waiting is not None)
            except WriteRefused as error:
                claims.note_write_failure(run_id, error)

    async def _take_over(self, run_id: str) -> RunRecord | None:
        """The run, with its lease taken, if it is free and the run still needs a
        replica; ``None`` if another holds it, it has ended, or no slot is free here
        (``HARNESS_MAX_RUNS`` counts per replica)."""
        claims = self.claims
        if len(claims.active) >= self.settings.max_runs or not await claims.lease(run_id):
            return None
        # The lease may be free because the replica that ran the run has just finished
        # it: judge the run by the whole log, not by a fold behind it.
        live = claims.live
        end = await live.log.current()
        live.log.notify()
        with anyio.move_on_after(CATCH_UP_S):
            while (live.position.generation != end.generation
                   or live.position.offset < end.offset):
                await anyio.sleep(FOLLOW_POLL_S)
        record = live.models.runs.runs.get(run_id)
        if record is None or not record.active or run_id in claims.active:
            await claims.leases.release(run_id)
            return None
        return record

    async def keep_leases(self) -> None:
        """Renew the leases of the runs executing here; stop a run whose lease is lost."""
        leases = self.claims.leases
        while True:
            await anyio.sleep(leases.renew_every_s)
            for active in list(self.claims.active.values()):
                if not await leases.renew(active.run_id):
                    logger.error("run %s: lease lost; another replica takes it over",
                                 active.run_id)
                    active.lost = True
                    active.scope.cancel()

    async def _take_up(self, record: RunRecord, *, interrupted: bool) -> None:
        claims = self.claims
        run_id = record.info.id
        if record.lifecycle.cancel_requested_at is not None:
            # Asked to cancel while nothing executed it (its server died while canceling).
            claims.release(await claims.append_claimed(run_id, finish_canceled(record)))
            claims.interrupted.pop(run_id, None)
        elif interrupted and record.info.status == "running":
            logger.info("resuming run %s", run_id)
            self._launch(await claims.append_claimed(
                run_id, [RunResumed(run_id=run_id, ts=now_timestamp())], resume=True))
        else:
            # Pending (created elsewhere, or never started), or retried elsewhere (the
            # other server appended its run_resumed).
            claims.active[run_id] = active = ActiveRun(run_id)
            self._launch(active)

    async def dispatch_queued(self) -> None:
        claims = self.claims
        for queued in claims.live.models.queue.items():
            if len(claims.active) >= self.settings.max_runs:
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
            if not await claims.leases.claim_queued(queued.queue_id):
                continue  # another replica is dispatching it
            await claims.lease(created.run_id)
            try:
                active = await claims.append_claimed(created.run_id, [
                    QueueDispatched(queue_id=queued.queue_id, run_id=created.run_id,
                                    ts=created.ts),
                    created,
                ])
            except BaseException:  # the run id is never used again: nor is its lease
                await claims.leases.release(created.run_id)
                raise
            self._launch(active)
