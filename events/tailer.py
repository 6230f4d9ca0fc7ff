"""Following a JSONL file as it grows, and noticing when it is another history.

The tailer is told *when* to look by ``events.doorbell``; each time, it ``stat``s the
path and reads from the offset it stored, so it never depends on what a notification
said. Only complete lines are handed on; a last line not yet ended by ``\\n`` stays in
the file until its writer finishes it, and the tailer remembers how far it has looked
for that newline, so a long line being written is scanned once, not once per look.

On every look it checks that the file is still the history it was reading: the same
inode, no shorter than its offset, the same first line, and the same bytes just before
its offset (the last line it read, up to ``TAIL_BYTES``). Otherwise it reports a
``Rotation`` and starts again from the new history's beginning. A rewrite that keeps
the first line and reproduces those last bytes at the same place, changing only lines
before them, is not seen: nothing short of re-reading the whole prefix could see it.

Generations come from ``Generations``: a history's is derived from the inode and first
line (stable across restarts), except that a generation seen to end in this process is
retired and never handed out again, so a rewrite in place gets a new one although its
inode and first line are the old ones. After a restart that memory is gone: a cursor
taken before such a rewrite (same inode, same first line) is accepted again if its
offset ends a line of the new history. That is the one residual case.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from events.log import RecordBatch, Rotation, batch_of_lines
from events.position import Position

FIRST_LINE_PROBE_BYTES = 4096
TAIL_BYTES = 4096
SCAN_BYTES = 1 << 20
SCAN_MARK_BYTES = 64
_PROCESS_SALT = secrets.token_bytes(8)  # retired generations' successors differ per process


def first_line(fd: int) -> bytes:
    """The file's first line once whole (its first ``FIRST_LINE_PROBE_BYTES`` if longer:
    they name it as well), else nothing."""
    return first_line_of(os.pread(fd, FIRST_LINE_PROBE_BYTES, 0))


def first_line_of(head: bytes) -> bytes:
    """``first_line`` of a file that begins with ``head`` (its first probe's bytes)."""
    probe = head[:FIRST_LINE_PROBE_BYTES]
    newline = probe.find(b"\n")
    if newline >= 0:
        return probe[: newline + 1]
    return probe if len(probe) == FIRST_LINE_PROBE_BYTES else b""


def generation_of(fd: int, path: Path) -> str:
    """The generation of the history open at ``fd``, as this process's readers name it."""
    return generations_of(path).of(os.fstat(fd).st_ino, first_line(fd))


_REGISTRY: dict[str, Generations] = {}


def generations_of(path: Path) -> Generations:
    """The one ``Generations`` of the file at ``path`` in this process."""
    return _REGISTRY.setdefault(os.path.abspath(path), Generations())


@dataclass
class Generations:
    """The generation of each history of one file, shared by every reader of it in this
    process, so that they agree, and so that an ended history's name is never reused."""

    retired: set[str] = field(default_factory=set)
    _known: dict[tuple[int, bytes], str] = field(default_factory=dict, repr=False)

    def of(self, inode: int, first_line: bytes) -> str:
        """The generation of the history with this inode and first line (hashed once:
        every append asks)."""
        key = (inode, first_line)
        generation = self._known.get(key)
        if generation is None:
            generation = self._known[key] = self._derive(inode, first_line)
        return generation

    def _derive(self, inode: int, first_line: bytes) -> str:
        digest = hashlib.blake2b(first_line, digest_size=6, key=inode.to_bytes(8, "little"))
        generation = digest.hexdigest()
        incarnation = 0
        while generation in self.retired:  # rewritten in place: same inode and first line
            incarnation += 1
            successor = hashlib.blake2b(digest.digest() + incarnation.to_bytes(4, "little"),
                                        digest_size=6, key=_PROCESS_SALT)
            generation = successor.hexdigest()
        return generation

    def retire(self, generation: str) -> None:
        self.retired.add(generation)
        self._known.clear()  # a retired generation's history gets a successor


class LogTailer:
    """Reads a growing JSONL file in whole lines after a position, knowing when it has
    become another history. It does no waiting: ``events.doorbell`` says when to look.
    """

    def __init__(self, path: Path, *, after: Position | None = None,
                 generations: Generations | None = None) -> None:
        self.path = path
        self.generations = generations or generations_of(path)
        self.offset = after.offset if after is not None else 0
        self._claimed = after if after is not None and after.offset else None
        self._inode: int | None = None
        self._first_line = b""
        self._tail = b""
        self._scanned = self.offset  # no newline between offset and here
        self._scan_marks = (b"", b"")
        self._generation = self.generations.of(0, b"")

    @property
    def position(self) -> Position:
        return Position(self._generation, self.offset)

    def read(self, *, max_records: int, max_bytes: int) -> RecordBatch | Rotation | None:
        """The next whole lines after the offset, or a ``Rotation``, or ``None``."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None  # between a rotation's rename and the new file: wait for it
        try:
            stat = os.fstat(fd)
            if self._inode is None:
                reason = self._attach(fd, stat)
            else:
                reason = self._changed(fd, stat)
                if reason is not None:
                    self.generations.retire(self._generation)  # that history has ended
            if reason is not None:
                self._restart(fd, stat.st_ino)
                return Rotation(reason, self._generation)
            return self._read_lines(fd, stat.st_size, max_records, max_bytes)
        finally:
            os.close(fd)

    # -- is it still the same history? ------------------------------------------------

    def _attach(self, fd: int, stat: os.stat_result) -> str | None:
        """First look. A claimed position must name a line's end in this history; if it
        does not, the reader starts from the beginning (its history is not retired: a
        client's cursor proves nothing about the log)."""
        self._inode = stat.st_ino
        self._note_first_line(fd)
        claimed, self._claimed = self._claimed, None
        actual = self.generations.of(stat.st_ino, self._first_line)
        if claimed is None:
            self._generation = actual
            return None
        if (claimed.generation != actual or claimed.offset > stat.st_size
                or os.pread(fd, 1, claimed.offset - 1) != b"\n"):
            return "foreign position"
        self._generation = actual
        self._tail = self._tail_before(fd, self.offset)
        return None

    def _changed(self, fd: int, stat: os.stat_result) -> str | None:
        if stat.st_ino != self._inode:
            return "replaced"
        if stat.st_size < self.offset:
            return "truncated"
        if self._first_line and os.pread(fd, len(self._first_line), 0) != self._first_line:
            return "rewritten"
        if self._tail and self._tail_before(fd, self.offset) != self._tail:
            return "rewritten"
        if self._generation in self.generations.retired:
            return "rewritten"  # another reader of this process saw it end
        return None

    def _note_first_line(self, fd: int) -> None:
        self._first_line = first_line(fd)
        if self._first_line and self._inode is not None:
            self._generation = self.generations.of(self._inode, self._first_line)

    def _tail_before(self, fd: int, offset: int) -> bytes:
        length = min(offset, TAIL_BYTES)
        return os.pread(fd, length, offset - length) if length else b""

    def _restart(self, fd: int, inode: int) -> None:
        self._inode = inode
        self.offset = self._scanned = 0
        self._first_line = self._tail = b""
        self._generation = self.generations.of(inode, b"")
        self._note_first_line(fd)

    # -- reading -----------------------------------------------------------------------

    def _read_lines(self, fd: int, size: int, max_records: int, max_bytes: int
                    ) -> RecordBatch | None:
        found = self._complete_lines(fd, size, max_bytes)
        if found is None:
            return None
        end, data = found
        if data is None:
            data = os.pread(fd, end - self.offset, self.offset)
            if len(data) != end - self.offset:
                return None  # shrank under us: the next look sees the truncation
        if len(data) > max_records and data.count(b"\n") > max_records:
            cut = -1
            for _ in range(max_records):
                cut = data.index(b"\n", cut + 1)
            data = data[: cut + 1]
        if not self._first_line:
            self._note_first_line(fd)
        batch = batch_of_lines(data, start=self.offset, generation=self._generation)
        self.offset = self._scanned = batch.end
        self._tail = data[-TAIL_BYTES:] if len(data) >= TAIL_BYTES else (
            self._tail + data)[-TAIL_BYTES:]
        return batch

    def _complete_lines(self, fd: int, size: int, max_bytes: int
                        ) -> tuple[int, bytes | None] | None:
        """Where the last whole line within ``max_bytes`` after the offset ends (further,
        for one longer line), with those bytes if they are at hand; ``None`` if no line
        is complete yet."""
        if size <= self.offset:
            return None
        if self._scanned > self.offset and not self._scan_still_holds(fd, size):
            self._scanned = self.offset  # the unfinished line was rewritten: look again
        if self._scanned == self.offset:
            window = os.pread(fd, min(max_bytes, size - self.offset), self.offset)
            newline = window.rfind(b"\n")
            if newline >= 0:
                return self.offset + newline + 1, window[: newline + 1]
            self._scanned = self.offset + len(window)
        # One line longer than max_bytes, or still being written: look for its end from
        # where the last look stopped, so a slowly written line is scanned once.
        while self._scanned < size:
            piece = os.pread(fd, min(SCAN_BYTES, size - self._scanned), self._scanned)
            if not piece:
                return None
            newline = piece.find(b"\n")
            if newline >= 0:
                return self._scanned + newline + 1, None
            self._scanned += len(piece)
        self._scan_marks = self._marks(fd)
        return None

    def _marks(self, fd: int) -> tuple[bytes, bytes]:
        """The first and last bytes of the unfinished line scanned so far."""
        length = min(SCAN_MARK_BYTES, self._scanned - self.offset)
        return (os.pread(fd, length, self.offset),
                os.pread(fd, length, self._scanned - length))

    def _scan_still_holds(self, fd: int, size: int) -> bool:
        """Whether the unfinished line is still the one scanned (appends only add to it).
        A rewrite of it that keeps both its first and its last scanned bytes, the whole
        history before it, and puts a newline in between, is not seen until the file grows
        past the scanned point: re-reading all of it on every look is what this avoids."""
        return size >= self._scanned and self._marks(fd) == self._scan_marks
