"""Read-model snapshots on disk: written atomically, loaded only when beyond doubt.

A snapshot is a cache of a replay (``projections.snapshot``), kept in
``HARNESS_DATA_DIR/snapshots/``. Writing goes to a temporary file in the same folder,
is flushed to disk, and is renamed over its final name (then the folder is flushed):
a crash at any moment leaves the previous snapshots and at worst a stray temporary
file, never a torn snapshot under a real name. The newest ``keep`` are kept.

Loading takes the newest snapshot that passes every check — made by these folds, of
the log's current generation, not beyond the log's end, its checksum right — and logs
why each other one was passed over. No snapshot at all means a full replay, which is
always correct.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from events.position import Position
from projections import snapshot
from projections.readmodels import ReadModels

logger = logging.getLogger("harness.snapshots")

FOLDER = "snapshots"
_NAME = re.compile(r"^readmodels-([0-9a-f]{1,32})-([0-9]{1,20})\.snapshot$")


@dataclass(frozen=True, slots=True)
class Loaded:
    """Read models from a snapshot, and which file they came from."""

    models: ReadModels
    path: Path


class SnapshotStore:
    """The snapshots of one data directory; ``keep`` is how many newest stay on disk."""

    def __init__(self, folder: Path, *, keep: int = 2) -> None:
        self.folder = folder
        self.keep = keep
        self.written = 0
        self.last_error: str | None = None

    def write(self, data: bytes, position: Position) -> Path:
        """Store one encoded snapshot atomically (blocking: run it in a worker thread)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"readmodels-{position.generation}-{position.offset:020d}.snapshot"
        temporary = self.folder / f".{final.name}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, final)
        self._sync_folder()
        self.written += 1
        self._prune()
        return final

    def load(self, end: Position, *,
             record_at: Callable[[Position], bytes | None] | None = None) -> Loaded | None:
        """The newest valid snapshot for a log whose end is ``end``, or ``None``.

        ``record_at`` reads the log's record ending at a position: a snapshot is taken
        only if that record is still the one it was taken after (blocking; this runs in
        a worker thread)."""
        for path in self._newest_first():
            match = _NAME.match(path.name)
            if match is None:
                continue
            generation, offset = match.group(1), int(match.group(2))
            if generation != end.generation:
                logger.info("snapshot %s ignored: of another history than the log's (%s)",
                            path.name, end.generation)
                continue
            if offset > end.offset:
                logger.warning("snapshot %s ignored: beyond the log's end (%s)", path.name, end)
                continue
            try:
                data = path.read_bytes()
                header = snapshot.header_of(data)
                if record_at is not None and snapshot.record_digest(
                        record_at(Position(generation, offset))) != header.last_record:
                    raise snapshot.SnapshotRefused("the log's record at its position is not "
                                                   "the one it was taken after")
                models = snapshot.decode(data)
            except (OSError, snapshot.SnapshotRefused) as error:
                logger.warning("snapshot %s ignored: %s", path.name, error)
                continue
            if models.position != Position(generation, offset):
                logger.warning("snapshot %s ignored: its header says %s", path.name,
                               models.position)
                continue
            return Loaded(models, path)
        return None

    def _newest_first(self) -> list[Path]:
        try:
            paths = [path for path in self.folder.iterdir() if _NAME.match(path.name)]
        except FileNotFoundError:
            return []
        return sorted(paths, key=lambda path: int(_NAME.match(path.name).group(2)),  # type: ignore[union-attr]
                      reverse=True)

    def _prune(self) -> None:
        for path in self._newest_first()[self.keep:]:
            path.unlink(missing_ok=True)
        for stray in self.folder.glob(".readmodels-*.tmp"):
            if not stray.name.endswith(f".{os.getpid()}.tmp"):
                stray.unlink(missing_ok=True)  # left by a process that died mid-write

    def _sync_folder(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
