"""Reading ``memory.jsonl`` tolerantly and incrementally.

Other processes append to the file (``record_memory``), so the reader follows it with
the same ``LogTailer`` as the runs log: a request reads only what was appended since the
last one, a line not yet ended by a newline waits, and a file that shrank or was
replaced is read again from the start. A bad line is skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from events.decoding import decode_each
from events.log import DEFAULT_MAX_BYTES as READ_BYTES
from events.log import Rotation
from events.tailer import LogTailer
from harness.memory.entries import MemoryEntry

_decoder = msgspec.json.Decoder(MemoryEntry)
READ_RECORDS = 1 << 30  # bounded by bytes alone


class MemoryLog:
    """The entries of one memory file, oldest first, as far as ``offset`` bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[MemoryEntry] = []
        self.bad_lines = 0
        self.generation = 0
        """Bumped when the file was replaced and ``entries`` restarted from empty."""
        self._tailer = LogTailer(path)

    @property
    def offset(self) -> int:
        return self._tailer.offset

    @property
    def position(self) -> str:
        """``<generation>:<offset>``: how far the file was read, in which incarnation."""
        return str(self._tailer.position)

    def catch_up(self) -> list[MemoryEntry]:
        """Read the lines appended since the last call; return the new entries."""
        fresh: list[MemoryEntry] = []
        while (batch := self._tailer.read(max_records=READ_RECORDS,
                                          max_bytes=READ_BYTES)) is not None:
            if isinstance(batch, Rotation):  # replaced or truncated: start over
                self.entries, fresh, self.bad_lines = [], [], 0
                self.generation += 1
                continue
            entries, bad = decode_each(batch.lines or b"", _decoder)
            fresh.extend(entries)
            self.bad_lines += bad
        self.entries.extend(fresh)
        return fresh
