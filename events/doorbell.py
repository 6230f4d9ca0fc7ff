"""When to look at the log again: file-system notifications, in-process pokes, and a
slow periodic re-check.

The watch is on the log's *directory*, not on the file: a watch on the file follows
its inode and goes silent after a rotation or an atomic replace. A notification is
only a doorbell — the reader always ``stat``s and reads from its own offset — so a
coalesced or lost notification costs nothing but time, and the periodic re-check
bounds that time (inotify does not report a queue overflow).
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
from watchfiles import awatch

SHUTDOWN_POLL_MS = 200


class Doorbell:
    """Rings when the log may have changed.

    ``step_ms`` is how often watchfiles collects notifications (an append wakes the
    reader one to two steps later); ``recheck_s`` is the longest ``wait`` lasts
    without any ring, so a lost notification delays a read by at most that long.
    """

    def __init__(self, path: Path, *, step_ms: int = 5, recheck_s: float = 1.0) -> None:
        self.path = path
        self.step_ms = step_ms
        self.recheck_s = recheck_s
        self._event = anyio.Event()

    def ring(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        """Until the next ring, or ``recheck_s`` at most."""
        with anyio.move_on_after(self.recheck_s):
            await self._event.wait()
        self._event = anyio.Event()

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                    ) -> None:
        """Ring on every change to the log's name in its directory, until cancelled."""
        name = self.path.name
        self.path.parent.mkdir(parents=True, exist_ok=True)
        task_status.started()
        # debounce bounds how long a steady stream of appends can hold a batch back;
        # rust_timeout bounds how long the watcher thread takes to notice a shutdown.
        async for _changes in awatch(
            self.path.parent,
            watch_filter=lambda _change, changed: os.path.basename(changed) == name,
            recursive=False,
            step=self.step_ms,
            debounce=4 * self.step_ms,
            rust_timeout=SHUTDOWN_POLL_MS,
            yield_on_timeout=False,
        ):
            self._event.set()
