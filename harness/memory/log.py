"""Reading ``memory.jsonl`` tolerantly and incrementally.

Other processes append to the file (``record_memory``), so the reader keeps its byte
offset and, when asked, reads only what was appended since: a request costs one
``stat`` and a 64-byte read when nothing changed. A line not yet ended by a newline
waits; a bad line is skipped and counted; a file that shrank or was replaced is read
again from the start. A replacement is told by the inode and size, and, since a new
file may reuse the inode and reach the same size, by its first bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from harness.memory.entries import MemoryEntry

_decoder = msgspec.json.Decoder(MemoryEntry)

HEAD_BYTES = 64


class MemoryLog:
    """The entries of one memory file, oldest first, as far as ``offset`` bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[MemoryEntry] = []
        self.offset = 0
        self.bad_lines = 0
        self.generation = 0
        """Bumped when the file was replaced and ``entries`` restarted from empty."""
        self._inode: int | None = None
        self._head = b""

    def catch_up(self) -> list[MemoryEntry]:
        """Read the lines appended since the last call; return the new entries."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return []
        with open(self.path, "rb") as file:
            if (stat.st_ino != self._inode or stat.st_size < self.offset
                    or file.read(len(self._head)) != self._head):
                self._restart(stat.st_ino)
            if stat.st_size == self.offset:
                return []
            file.seek(self.offset)
            data = file.read(stat.st_size - self.offset)
        if not self._head:
            self._head = data[:HEAD_BYTES]
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        fresh = []
        for line in complete.split(b"\n")[:-1]:
            if not line.strip():
                continue
            try:
                fresh.append(_decoder.decode(line))
            except msgspec.MsgspecError:
                self.bad_lines += 1
        self.entries.extend(fresh)
        return fresh

    def _restart(self, inode: int) -> None:
        self._inode = inode
        self.entries = []
        self._head = b""
        self.offset = 0
        self.bad_lines = 0
        self.generation += 1
