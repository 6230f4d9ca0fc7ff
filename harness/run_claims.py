"""The runs this process executes, claimed in the log, and those a refused write stopped.

A run is claimed (entered in ``active``) *before* the events that start it are
appended, so that a command or a pass arriving during the append sees it as taken. A
write the log refuses (a full disk) stops only the run that made it; the run waits in
``interrupted`` and is resumed once the log takes writes again, tried after a delay that
doubles from ``WRITE_RETRY_FIRST_S`` to ``WRITE_RETRY_MAX_S``.

Every write here turns an ``OSError`` into the refusal a client is answered with
(``harness.errors.write_failed``): the log's and the lease store's alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import anyio

from events.schema import Event
from harness.errors import WriteRefused, write_failed
from harness.leases import RunLeases
from harness.live import LiveLog

logger = logging.getLogger("harness.executor")

FOLLOW_POLL_S = 0.05
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


class RunClaims:
    """Claims on runs in ``live``'s log, with the leases of ``leases``."""

    def __init__(self, live: LiveLog, leases: RunLeases) -> None:
        self.live = live
        self.leases = leases
        self.active: dict[str, ActiveRun] = {}
        self.interrupted: dict[str, Interrupted] = {}

    def waiting_to_write(self) -> dict[str, str]:
        """The runs a refused write stopped and nothing executes, with the refusal."""
        return {run_id: waiting.error for run_id, waiting in self.interrupted.items()
                if run_id not in self.active}

    async def append(self, events: list[Event]) -> None:
        """Append and wait until the read models show ``events``."""
        try:
            await self.live.append(events)
        except OSError as error:
            raise write_failed(error) from error

    async def write(self, events: list[Event]) -> None:
        """Append without waiting for the read models (a run's own events)."""
        try:
            await self.live.append_nowait(events)
        except OSError as error:
            raise write_failed(error) from error

    async def lease(self, run_id: str) -> bool:
        """Take the run's lease (``False``: another replica holds it); an unreachable
        lease store refuses like the log would."""
        try:
            return await self.leases.acquire(run_id)
        except OSError as error:
            raise write_failed(error) from error

    async def held_elsewhere(self, run_id: str) -> bool:
        try:
            return await self.leases.held_elsewhere(run_id)
        except OSError as error:
            raise write_failed(error) from error

    async def append_claimed(self, run_id: str, events: list[Event], *,
                             resume: bool = False) -> ActiveRun:
        """Append ``events`` with the run claimed as this process's first, so that a
        command or a pass arriving during the append sees it as taken."""
        active = self.active[run_id] = ActiveRun(run_id, resume=resume)
        try:
            await self.append(events)
        except BaseException:
            self.release(active)
            raise
        return active

    def release(self, active: ActiveRun) -> None:
        if self.active.get(active.run_id) is active:
            del self.active[active.run_id]

    async def until_finished(self, run_id: str, *, deadline_s: float) -> None:
        """Until the read models show the run ended (or gone: the log was replaced)."""
        with anyio.move_on_after(deadline_s):
            while (record := self.live.models.runs.runs.get(run_id)) and record.active:
                await anyio.sleep(FOLLOW_POLL_S)

    def note_write_failure(self, run_id: str, error: WriteRefused) -> None:
        waiting = self.interrupted.setdefault(run_id, Interrupted())
        waiting.failures += 1
        waiting.error = error.message
        delay_s = min(WRITE_RETRY_FIRST_S * 2 ** (waiting.failures - 1), WRITE_RETRY_MAX_S)
        waiting.retry_at = anyio.current_time() + delay_s
        logger.warning("run %s stopped: %s; resuming it in %.2f s", run_id, error.message,
                       delay_s)
