"""The embedded log: one JSONL file, read by a tailer, woken by a doorbell, appended
to under ``flock`` (see ``events.tailer``, ``events.doorbell``, ``events.writer``).

Long reads, and writes that must wait for another process's lock, run in worker
threads: a lock held elsewhere or a 4 MiB read never stall the event loop. A short
read or an uncontended append (microseconds, from the page cache) runs on the loop,
where a hop to a thread and back would cost more than the work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread

from events.doorbell import Doorbell
from events.log import DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORDS, RecordBatch, Rotation
from events.position import Position
from events.schema import Event
from events.tailer import (
    FIRST_LINE_PROBE_BYTES,
    LogTailer,
    first_line_of,
    generation_of,
    generations_of,
)
from events.writer import LogAppender

READ_BACK_BYTES = 1 << 16
ON_LOOP_BYTES = 1 << 16  # a read of at most this much runs on the event loop
RECORD_WINDOW = 1 << 10  # bytes read to find one record's beginning: most lines fit
SPAN_GAP_BYTES = 1 << 16  # records closer than this are read back in one read
SPAN_BYTES = 4 << 20      # the most one such read takes


def _spans(wanted: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    """``(offset, index)`` pairs, sorted by offset, in runs close enough to be read at once."""
    span: list[tuple[int, int]] = []
    for pair in wanted:
        if span and (pair[0] - span[-1][0] > SPAN_GAP_BYTES
                     or pair[0] - span[0][0] > SPAN_BYTES):
            yield span
            span = []
        span.append(pair)
    if span:
        yield span


class FileLogReader:
    """``events.log.LogReader`` over a ``LogTailer``."""

    def __init__(self, tailer: LogTailer) -> None:
        self.tailer = tailer

    @property
    def position(self) -> Position:
        return self.tailer.position

    async def read(self, *, max_records: int = DEFAULT_MAX_RECORDS,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> RecordBatch | Rotation | None:
        # Following the live end, a read takes what a few appends added, in some 20 µs.
        # A hop to a worker thread and back costs ~275 µs, and with the loop busy (an
        # executor at full speed) it waits for the GIL and an iteration on each side:
        # it was most of the append->client latency there (p50 35-60 ms against 5-8 ms
        # on the loop, measured back to back, bench streams executor). A catch-up or a
        # replay (more than ON_LOOP_BYTES unread) still reads in a worker thread.
        if self._unread_bytes() <= ON_LOOP_BYTES:
            return self.read_blocking(max_records, max_bytes)
        return await anyio.to_thread.run_sync(self.read_blocking, max_records, max_bytes)

    def _unread_bytes(self) -> int:
        try:
            return os.stat(self.tailer.path).st_size - self.tailer.offset
        except FileNotFoundError:
            return 0

    def read_blocking(self, max_records: int = DEFAULT_MAX_RECORDS,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> RecordBatch | Rotation | None:
        """``read`` for a caller already in a worker thread."""
        return self.tailer.read(max_records=max_records, max_bytes=max_bytes)

    async def aclose(self) -> None:
        pass


class FileLog:
    """``events.log.EventLog`` over the file at ``path``.

    ``step_ms`` and ``recheck_s`` tune the doorbell (see ``events.doorbell.Doorbell``).
    """

    def __init__(self, path: Path, *, step_ms: int = 5, recheck_s: float = 1.0) -> None:
        self.path = path
        self.name = str(path)
        self._step_ms = step_ms
        self._recheck_s = recheck_s
        self._doorbell: Doorbell | None = None
        self._appender = LogAppender(path, head_bytes=FIRST_LINE_PROBE_BYTES)
        self._generations = generations_of(path)

    def reader(self, *, after: Position | None = None) -> FileLogReader:
        return FileLogReader(LogTailer(self.path, after=after))

    async def current(self) -> Position:
        return await anyio.to_thread.run_sync(self.current_blocking)

    def current_blocking(self) -> Position:
        """The end of the last whole line, in the history the readers of this process
        see there (a new reader finds out what it is)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return Position(self._generations.of(0, b""), 0)
        try:
            size = os.fstat(fd).st_size
            tail = os.pread(fd, min(size, READ_BACK_BYTES), max(0, size - READ_BACK_BYTES))
            end = size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
            if not end and size > READ_BACK_BYTES:
                end = self._line_end_before(fd, size)
            return Position(generation_of(fd, self.path), end)
        finally:
            os.close(fd)

    async def append(self, events: Sequence[Event | dict[str, Any]]) -> Position:
        # On the event loop: a whole append is one write of some 13 µs, while a hop to
        # a worker thread costs ~275 µs and held the executor to a tenth of its speed.
        # Only a lock held by another process makes the wait move off the loop.
        try:
            return self.append_blocking(events, wait_for_lock=False)
        except BlockingIOError:
            return await anyio.to_thread.run_sync(self.append_blocking, events)

    def append_blocking(self, events: Sequence[Event | dict[str, Any]], *,
                        wait_for_lock: bool = True) -> Position:
        """``append`` for a caller outside an event loop (a benchmark, a script)."""
        appended = self._appender.append(events, wait_for_lock=wait_for_lock)
        generation = self._generations.of(appended.inode, first_line_of(appended.head))
        return Position(generation, appended.end)

    async def read_at(self, positions: Sequence[Position]) -> list[bytes | None]:
        return await anyio.to_thread.run_sync(self._read_at, positions)

    def _read_at(self, positions: Sequence[Position]) -> list[bytes | None]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return [None] * len(positions)
        try:
            generation = generation_of(fd, self.path)
            size = os.fstat(fd).st_size
            found: list[bytes | None] = [None] * len(positions)
            wanted = sorted((position.offset, index) for index, position in enumerate(positions)
                            if position.generation == generation and 0 < position.offset <= size)
            for span in _spans(wanted):
                self._read_span(fd, span, found)
            return found
        finally:
            os.close(fd)

    def _read_span(self, fd: int, span: list[tuple[int, int]], found: list[bytes | None]
                   ) -> None:
        """The records ending at ``span``'s offsets, from one read of the bytes they lie
        in: a run's events mostly lie close together, and one read per record made a
        resume from the start of a long log read it back at a fraction of disk speed."""
        first, last = span[0][0], span[-1][0]
        begin = max(0, first - RECORD_WINDOW)
        data = os.pread(fd, last - begin, begin)
        if len(data) != last - begin:
            return  # the file shrank meanwhile: no record ends where it was asked for
        for offset, index in span:
            end = offset - begin  # just after the record's newline, within ``data``
            if data[end - 1:end] != b"\n":
                continue
            newline = data.rfind(b"\n", 0, end - 1)
            if newline < 0 and begin > 0:  # longer than the window before it
                found[index] = self._record_ending_at(fd, offset)
                continue
            raw = data[newline + 1:end - 1]
            found[index] = raw if raw.strip() else None

    def _record_ending_at(self, fd: int, offset: int) -> bytes | None:
        """The line that ends just before ``offset``, if one does and it is not blank.

        One read of the ``RECORD_WINDOW`` bytes before ``offset`` holds a whole line of
        the usual length (a run read back is hundreds of these); a longer one is looked
        for further back."""
        length = min(offset, RECORD_WINDOW)
        window = os.pread(fd, length, offset - length)
        if len(window) != length or not window.endswith(b"\n"):
            return None
        newline = window.rfind(b"\n", 0, length - 1)
        if newline >= 0 or length == offset:  # the line begins inside the window
            raw = window[newline + 1:-1]
        else:
            start = self._line_end_before(fd, offset - length)
            raw = os.pread(fd, offset - 1 - start, start)
        return raw if raw.strip() else None

    @staticmethod
    def _line_end_before(fd: int, offset: int) -> int:
        """The offset just after the last newline before ``offset`` (0 if none)."""
        cursor = offset
        while cursor > 0:
            length = min(cursor, READ_BACK_BYTES)
            piece = os.pread(fd, length, cursor - length)
            newline = piece.rfind(b"\n")
            if newline >= 0:
                return cursor - length + newline + 1
            cursor -= length
        return 0

    def retire(self, generation: str) -> None:
        # A rewrite in place that left the first line and the bytes before the readers'
        # offsets alone: only a read back of older records can see it.
        self._generations.retire(generation)

    def notify(self) -> None:
        self.doorbell.ring()

    async def changed(self) -> None:
        await self.doorbell.wait()

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
                    ) -> None:
        await self.doorbell.watch(task_status=task_status)

    async def aclose(self) -> None:
        self._appender.close()

    @property
    def doorbell(self) -> Doorbell:
        # Made on first use, inside the event loop that will wait on it.
        if self._doorbell is None:
            self._doorbell = Doorbell(self.path, step_ms=self._step_ms, recheck_s=self._recheck_s)
        return self._doorbell
