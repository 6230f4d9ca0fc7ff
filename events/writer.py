"""Appending events to the log so that several processes may write at once.

Each call builds whole lines, takes an exclusive ``flock``, and hands them to the
kernel in a single ``write`` on a descriptor opened with ``O_APPEND``: readers then see
a line either whole or not at all, and lines of different writers never interleave.
Python's buffered files are not used because they split and delay writes.

An append is whole or absent: if the write fails or is short (a full disk, a file-size
limit), the file is cut back to its size before the append, still under the lock, and
the error propagates.

A long-lived writer (the server) keeps one ``LogAppender`` and so one descriptor across
appends: opening the file, reading its head and checking its last byte on every append
held the executor to less than half its speed. Under the lock it still checks that the
path names the file it holds (else it reopens: the log was rotated or replaced) and
that the file ends where its own last append did (else it looks again at the last byte
and the head: another writer appended, or the file was rewritten). A rewrite in place
that leaves the file exactly as long as that is not seen here, so the position this
append returns may name the old history; the readers' own checks (``events.tailer``)
still see the rewrite and start over.
"""

from __future__ import annotations

import fcntl
import functools
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeAlias

import msgspec

# What a writer may append: an event, a side file's struct, or a plain JSON object.
Appendable: TypeAlias = msgspec.Struct | dict[str, Any]

_encoder = msgspec.json.Encoder()


class TornWrite(OSError):
    """The kernel accepted fewer bytes than one whole append (and they were cut back)."""


@functools.lru_cache(maxsize=256)
def format_timestamp(moment: datetime) -> str:
    """``moment`` in the log's format: RFC 3339 UTC with milliseconds. Cached: a busy
    executor writes a dozen events within each millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_timestamp() -> datetime:
    """The current time as the log keeps it: UTC, to the millisecond, so that an event
    made with it equals the one a reader decodes from its line."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def encode_line(record: Appendable) -> bytes:
    """One record as one line; JSON never contains a raw newline, so it cannot split.

    A ``ts`` held as a ``datetime`` is written in the log's format: msgspec alone would
    write microseconds. A ``ts`` already text (another writer's dict) is kept as it is.
    """
    fields = msgspec.to_builtins(record, builtin_types=(datetime,))
    if isinstance(ts := fields.get("ts"), datetime):
        fields["ts"] = format_timestamp(ts)
    return _encoder.encode(fields) + b"\n"


def append_events(path: Path, events: Iterable[Appendable]) -> int:
    """Append ``events`` as consecutive lines in one write; return the offset after them."""
    return append_lines(path, events).end


class Appended(NamedTuple):
    """Where an append ended, and what names the file's history: its inode and the first
    bytes of its first line, read under the same lock."""

    end: int
    inode: int
    head: bytes


def append_lines(path: Path, events: Iterable[Appendable], *, head_bytes: int = 4096,
                 wait_for_lock: bool = True) -> Appended:
    """Append ``events`` as consecutive lines in one write, through a descriptor opened
    for this append alone (see ``LogAppender.append``)."""
    with LogAppender(path, head_bytes=head_bytes) as appender:
        return appender.append(events, wait_for_lock=wait_for_lock)


class LogAppender:
    """Appends to the file at ``path`` through one descriptor kept open between appends.

    Safe to share between threads (one append at a time) and, through ``flock``, with
    other processes. ``head_bytes``: how much of the file's beginning ``Appended.head``
    holds.
    """

    def __init__(self, path: Path, *, head_bytes: int = 4096) -> None:
        self.path = path
        self.head_bytes = head_bytes
        self._fd: int | None = None
        self._inode = 0
        self._end = -1  # where this appender's last append ended; -1: look at the file
        self._head = b""
        self._busy = threading.Lock()

    def append(self, events: Iterable[Appendable], *, wait_for_lock: bool = True) -> Appended:
        """Append ``events`` as consecutive lines in one write.

        A torn last line (a writer that died mid-line) is closed with a newline first, so
        that it becomes one bad line instead of corrupting the first line written here.
        Without ``wait_for_lock``, a lock held by another writer (or another thread of
        this one) raises ``BlockingIOError`` and nothing is written.
        """
        payload = b"".join(encode_line(event) for event in events)
        if not payload:
            raise ValueError("nothing to append")
        if not self._busy.acquire(blocking=wait_for_lock):
            raise BlockingIOError("another thread is appending")
        try:
            fd, size = self._locked(wait_for_lock)
            try:
                if size != self._end:  # someone else wrote, or rewrote the file
                    if size and os.pread(fd, 1, size - 1) != b"\n":
                        payload = b"\n" + payload
                    self._head = b""
                self._end = -1  # unknown until the write is whole
                _write_whole(fd, payload, size, self.path)
                self._end = size + len(payload)
                if len(self._head) < self.head_bytes and self._end > len(self._head):
                    self._head = os.pread(fd, self.head_bytes, 0)
                return Appended(self._end, self._inode, self._head)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._busy.release()

    def _locked(self, wait_for_lock: bool) -> tuple[int, int]:
        """The descriptor of the file the path names now, locked, and the file's size."""
        while True:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT
                                   | os.O_CLOEXEC, 0o644)
                self._inode, self._end, self._head = os.fstat(self._fd).st_ino, -1, b""
            fcntl.flock(self._fd, fcntl.LOCK_EX if wait_for_lock
                        else fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                named = os.stat(self.path)
            except FileNotFoundError:
                named = None
            except BaseException:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                raise
            if named is not None and named.st_ino == self._inode:
                return self._fd, named.st_size
            # Rotated, replaced or removed since the last append: the path's file now.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._close()

    def close(self) -> None:
        with self._busy:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self._close()  # a writer dropped without ``close`` must not keep a descriptor

    def __enter__(self) -> LogAppender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _write_whole(fd: int, payload: bytes, size: int, path: Path) -> None:
    """Write ``payload`` in one go or leave the file at ``size`` (we hold the lock)."""
    try:
        written = os.write(fd, payload)
        if written != len(payload):
            raise TornWrite(f"wrote {written} of {len(payload)} bytes to {path}")
    except BaseException:
        os.ftruncate(fd, size)
        raise


def append_event(path: Path, event: Appendable) -> int:
    """Append one event as one line; return the offset after it."""
    return append_events(path, (event,))

