"""Executing one claimed run, from its start (or resumption) to its ``run_finished``.

Every run executes in its own task under its own cancel scope: canceling a run cancels
its in-flight provider calls at once, and they end as canceled faults. A run's crash
(a bug) fails that run alone; a write the log refuses stops it with nothing more
written, to be resumed later (``harness.run_claims``); a run whose lease went to
another replica stops and writes nothing more, not even a last delta.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import anyio

from events.schema import Event, FinalStatus, RunFinished, RunStarted
from events.writer import now_timestamp
from harness.commands import find_run
from harness.datasets import DatasetCatalog
from harness.errors import LogUnavailable, WriteRefused
from harness.providers import SharedHttpClient
from harness.run_claims import ActiveRun, RunClaims
from harness.run_items import run_items
from harness.settings import Settings

logger = logging.getLogger("harness.executor")
RELEASE_DEADLINE_S = 5.0  # to give a run's lease back when it ends


class RunExecution:
    """Executes claimed runs with the datasets of ``catalog``; ``ended`` is called once
    each run is released, whatever its end."""

    def __init__(self, claims: RunClaims, catalog: DatasetCatalog, settings: Settings, *,
                 http_client: SharedHttpClient | None, ended: Callable[[], None]) -> None:
        self.claims = claims
        self.catalog = catalog
        self.settings = settings
        self.http_client = http_client
        self._ended = ended

    async def execute(self, active: ActiveRun) -> None:
        claims = self.claims
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
                await claims.append([RunFinished(run_id=run_id, status=status, error=error,
                                                 ts=now_timestamp())])
            except LogUnavailable as unseen:
                if isinstance(unseen, WriteRefused):
                    raise
                # Written, but the reader has not shown it yet: the run stays claimed
                # until it does, so that no pass takes it up again meanwhile.
                await claims.until_finished(run_id, deadline_s=math.inf)
            claims.interrupted.pop(run_id, None)
        except Exception as failure:
            refused = _refused_write(failure)
            if refused is None:
                raise
            claims.note_write_failure(run_id, refused)
        finally:
            claims.release(active)
            if not active.lost and run_id not in claims.interrupted:
                # Before ``done``: once a cancel has answered, a retry sent at once must
                # find the run's lease free, here or on another replica.
                # Bounded: a lease store that does not answer must not hold up a cancel's
                # answer or a shutdown (the lease then expires by its TTL).
                with anyio.move_on_after(RELEASE_DEADLINE_S, shield=True):
                    await _quietly(claims.leases.release(run_id))
            active.done.set()
            self._ended()

    async def _run_items(self, active: ActiveRun) -> tuple[FinalStatus, str | None]:
        """Run the run's unfinished items; its final status and error."""
        record = find_run(self.claims.live.models, active.run_id)
        if record.info.status == "pending":
            await self.claims.write([RunStarted(run_id=active.run_id, ts=now_timestamp())])
        return await run_items(record, resume=active.resume, catalog=self.catalog,
                               settings=self.settings, http_client=self.http_client,
                               write=lambda events: self._write_unless_lost(active, events),
                               canceling=lambda: active.canceling)

    async def _write_unless_lost(self, active: ActiveRun, events: list[Event]) -> None:
        if not active.lost:  # not even the delta a runner flushes on its way out
            await self.claims.write(events)


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
