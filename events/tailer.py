"""Following the log file as it grows, is truncated, or is replaced.

The tailer is told *when* to look by ``events.doorbell``; each time, it ``stat``s the
path and reads from the offset it stored, so it never depends on what a notification
said.

Only complete lines are handed on; a last line not yet ended by ``\\n`` stays in the
file until its writer finishes it. The tailer notices that the log is no longer the
one it was reading when the inode changes, the size falls below the stored offset, or
the first line differs from the one it saw; it then reports a ``Rotation`` and starts
again from offset 0 of the new file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from events.position import Position

FIRST_LINE_PROBE_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Chunk:
    """Whole lines ``data`` read from ``start`` to ``end`` of one generation of the log."""

    data: bytes
    start: int
    end: int
    generation: str

    @property
    def position(self) -> Position:
        return Position(self.generation, self.end)


@dataclass(frozen=True, slots=True)
class Rotation:
    """The log was truncated or replaced: what was read before no longer stands."""

    reason: str


def generation_of(inode: int, first_line: bytes) -> str:
    """A name for one incarnation of the log file, stable across server restarts."""
    digest = hashlib.blake2b(first_line, digest_size=6, key=inode.to_bytes(8, "little"))
    return digest.hexdigest()


class LogTailer:
    """Reads a growing log file in whole lines and knows when it has been replaced.

    It does no waiting of its own: ``events.doorbell`` says when to call ``read_new``.
    ``read_bytes`` is the largest single read (it grows for a longer line).
    """

    def __init__(self, path: Path, *, read_bytes: int = 1 << 22) -> None:
        self.path = path
        self.read_bytes = read_bytes
        self.offset = 0
        self._inode: int | None = None
        self._first_line = b""
        self._generation = generation_of(0, b"")

    @property
    def position(self) -> Position:
        return Position(self._generation, self.offset)

    def read_new(self) -> Iterator[Chunk | Rotation]:
        """Everything complete that was appended since the last call, chunk by chunk.

        A ``Rotation``, if any, comes first; the tailer has then already started over
        and the chunks after it are the new file's. Chunks are read lazily, so a
        consumer may stop early (the offset only advances past what was yielded).
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return  # between a rotation's rename and the new file: wait for it
        try:
            stat = os.fstat(fd)
            rotation = self._rotation(fd, stat)
            if rotation is not None:
                yield rotation
                self._restart(stat.st_ino)
            elif self._inode is None:
                self._restart(stat.st_ino)
            yield from self._read_lines(fd, stat.st_size)
        finally:
            os.close(fd)

    def _rotation(self, fd: int, stat: os.stat_result) -> Rotation | None:
        if self._inode is None:
            return None
        if stat.st_ino != self._inode:
            return Rotation("replaced")
        if stat.st_size < self.offset:
            return Rotation("truncated")
        if self._first_line and os.pread(fd, len(self._first_line), 0) != self._first_line:
            return Rotation("rewritten")
        return None

    def _restart(self, inode: int) -> None:
        self._inode = inode
        self.offset = 0
        self._first_line = b""
        self._generation = generation_of(inode, b"")

    def _read_lines(self, fd: int, size: int) -> Iterator[Chunk]:
        window = self.read_bytes
        while self.offset < size:
            data = os.pread(fd, min(window, size - self.offset), self.offset)
            end = data.rfind(b"\n") + 1
            if end == 0:
                if len(data) < window:
                    break  # only a partial line is there: wait for its newline
                window *= 2  # a line longer than the window: read more of it at once
                continue
            if self.offset == 0:
                self._note_first_line(data)
            chunk = Chunk(data[:end], self.offset, self.offset + end, self._generation)
            self.offset += end
            window = self.read_bytes
            yield chunk

    def _note_first_line(self, data: bytes) -> None:
        first = data[: data.index(b"\n") + 1][:FIRST_LINE_PROBE_BYTES]
        self._first_line = first
        self._generation = generation_of(self._inode or 0, first)
