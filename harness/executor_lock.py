"""One executor per data directory (SPEC §7.4): an exclusive ``flock`` on a lock file.

Two servers on one data directory would otherwise both execute (and resume) the same
runs, judging items twice. The server that holds the lock executes every run of the
log; any other serves reads and records commands in the log, which the holder then
carries out. The lock is held for the life of the process (the kernel releases it when
the process dies, however it dies), and a server without it keeps trying, so that it
takes over when the holder exits.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

LOCK_FILE = "executor.lock"


class LockLost(Exception):
    """The lock file was deleted or replaced under the process that held it."""


class ExecutorLock:
    """The lock on ``path``; ``held`` once ``try_acquire`` succeeded, until ``release``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other process (or other open of it) holds it; never waits."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        try:  # who holds it, for the other servers' health and start-up line
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        except OSError:
            pass  # a full disk must not cost the lock; the holder is then unnamed
        return True

    def still_ours(self) -> bool:
        """Whether the file at ``path`` is still the one this process locked. Someone
        may have deleted or replaced it, and then another process can lock the new one:
        the holder must step down (and try again) rather than execute beside it."""
        if self._fd is None:
            return False
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            return False
        locked = os.fstat(self._fd)
        return (current.st_dev, current.st_ino) == (locked.st_dev, locked.st_ino)

    def holder(self) -> str | None:
        """Who holds the lock, as that process wrote it (``None`` if unknown)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        return text or None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None
