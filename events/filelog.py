"""The embedded log: one JSONL file, read by a tailer, woken by a doorbell, appended
to under ``flock`` (see ``events.tailer``, ``events.doorbell``, ``events.writer``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio

from events.doorbell import Doorbell
from events.schema import Event
from events.tailer import LogTailer
from events.writer import append_events


class FileLog:
    """``events.log.EventLog`` over the file at ``path``.

    ``step_ms`` and ``recheck_s`` tune the doorbell (see ``events.doorbell.Doorbell``).
    """

    def __init__(self, path: Path, *, step_ms: int = 5, recheck_s: float = 1.0) -> None:
        self.path = path
        self._step_ms = step_ms
        self._recheck_s = recheck_s
        self._doorbell: Doorbell | None = None

    @property
    def name(self) -> str:
        return str(self.path)

    def reader(self) -> LogTailer:
        return LogTailer(self.path)

    def read_range(self, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return os.pread(fd, end - start, start)
        finally:
            os.close(fd)

    def append(self, events: Iterable[Event | dict[str, Any]]) -> int:
        return append_events(self.path, events)

    def notify(self) -> None:
        self.doorbell.ring()

    async def changed(self) -> None:
        await self.doorbell.wait()

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                    ) -> None:
        await self.doorbell.watch(task_status=task_status)

    @property
    def doorbell(self) -> Doorbell:
        # Made on first use, inside the event loop that will wait on it.
        if self._doorbell is None:
            self._doorbell = Doorbell(self.path, step_ms=self._step_ms, recheck_s=self._recheck_s)
        return self._doorbell
