"""Keeping the server's long-lived tasks (the log reader, the executor) alive.

A task that raises is logged, shown in ``/api/health`` as the current failure of its
name, and started again after a delay that doubles with each failure in a row (from
``first_delay_s`` up to ``max_delay_s``). A task that then runs for ``steady_s`` without
failing counts as recovered: the next failure waits ``first_delay_s`` again. Nothing is
ever left dead: a disk that fills, a descriptor limit or a bug in one event costs a
restart, not the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc

from harness.api_shapes import TaskHealth

logger = logging.getLogger("harness.supervisor")

Task = Callable[..., Awaitable[None]]


class _StartSignal:
    """The ``task_status`` a supervised task is given: passes its first ``started()``
    on to whoever waits for the supervisor to start, and marks every start as a
    recovery."""

    def __init__(self, outer: anyio.abc.TaskStatus[None] | None, health: TaskHealth) -> None:
        self.outer = outer
        self.health = health

    def started(self, value: None = None) -> None:
        self.health.failure = None
        if self.outer is not None:
            self.outer.started()
            self.outer = None

    def give_up_waiting(self) -> None:
        """The first start failed: let the server come up anyway, failure showing."""
        if self.outer is not None:
            self.outer.started()
            self.outer = None


class Supervisor:
    """Runs tasks by name and restarts them when they fail; ``health`` is by name."""

    def __init__(self, *, first_delay_s: float = 0.1, max_delay_s: float = 5.0,
                 steady_s: float = 30.0) -> None:
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.steady_s = steady_s
        self.health: dict[str, TaskHealth] = {}

    @property
    def failures(self) -> dict[str, str]:
        """The tasks that are down right now, and why."""
        return {name: health.failure for name, health in self.health.items()
                if health.failure is not None}

    async def keep_running(self, name: str, task: Task, *,
                           task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                           ) -> None:
        """Run ``task(task_status=...)`` until cancelled, restarting it when it fails.

        Returns to the caller of ``task_group.start`` once the task's first start has
        signalled (or its first attempt failed: the server then serves with the failure
        in health while the restarts go on).
        """
        health = self.health.setdefault(name, TaskHealth())
        signal = _StartSignal(task_status, health)
        delay_s = self.first_delay_s
        while True:
            began = time.monotonic()
            try:
                await task(task_status=signal)
                raise RuntimeError(f"the {name} returned")  # it is meant to run until cancelled
            except Exception as error:
                logger.exception("the %s stopped; restarting it", name)
                health.failure = health.last_failure = describe(error)
            signal.give_up_waiting()
            if time.monotonic() - began >= self.steady_s:
                delay_s = self.first_delay_s
            await anyio.sleep(delay_s)
            delay_s = min(delay_s * 2, self.max_delay_s)
            health.restarts += 1


def describe(error: BaseException) -> str:
    """What went wrong, seen through the task groups that wrapped it."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"
