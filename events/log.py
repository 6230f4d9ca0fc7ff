"""The log as the rest of the server sees it: whole records in order, at opaque positions.

``events.filelog.FileLog`` — one JSONL file — is the embedded default; a distributed log
(``events.jetstream.JetStreamLog``) stands in by implementing the same two protocols
with the same envelope (one JSON event per record), its stream's identity as the
generation and its sequence as the offset. ``open_log`` picks one from the
``HARNESS_LOG`` setting. ``tests/unit/test_log_contract.py`` is the suite every backend
must pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, overload

import anyio
import anyio.abc

from events.position import Position
from events.schema import Event

T = TypeVar("T")
DEFAULT_MAX_RECORDS = 10_000
DEFAULT_MAX_BYTES = 4 << 20


class LogUnavailable(OSError):
    """The log cannot be used now (its server unreachable, credentials refused, no
    permission). An ``OSError``, like a full disk for the file: the caller retries or
    reports it; the message is one line meant for a person."""


class LogGap(RuntimeError):
    """A batch that begins after the position its reader stood at: records were lost
    between the two. Never silent: the fold refuses it."""


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """Whole records read in one go, columnar so a replay of millions allocates little.

    ``lines``, when the backend has its records so (the file does), is the records as
    newline-ended lines, blank lines possibly among them: a replay decodes them in one
    call. ``raws`` and ``ends`` are then views of it, split on first use.
    """

    generation: str  # the history these records belong to
    start: int  # the offset the batch begins after (== the previous batch's end)
    raws: Sequence[bytes]  # each one JSON envelope, no trailing newline
    ends: Sequence[int]  # ends[i]: the offset just after raws[i], the resume point after it
    end: int  # where the reader stands after the batch (>= ends[-1])
    lines: bytes | None = None

    def position_of(self, index: int) -> Position:
        return Position(self.generation, self.ends[index])

    @property
    def position(self) -> Position:
        return Position(self.generation, self.end)

    def head(self, count: int) -> RecordBatch:
        """The first ``count`` records alone, ending just after the last of them."""
        if count >= len(self.raws):
            return self
        end = self.ends[count - 1] if count else self.start
        return RecordBatch(self.generation, self.start, list(self.raws[:count]),
                           list(self.ends[:count]), end)

    def after(self, offset: int) -> RecordBatch:
        """The records that end after ``offset`` (a redelivery's new part)."""
        keep = [index for index, end in enumerate(self.ends) if end > offset]
        return RecordBatch(self.generation, max(self.start, offset),
                           [self.raws[i] for i in keep], [self.ends[i] for i in keep], self.end)


@dataclass(frozen=True, slots=True)
class Rotation:
    """The log is another history now (truncated, replaced, rewritten in place, purged,
    re-created). The reader has started over at the new history's beginning."""

    reason: str
    generation: str  # the new history's generation


class _LineIndex:
    """The non-blank lines of ``data`` (which begins at offset ``start``) and their ends,
    split on first use: a replay that decodes ``data`` whole never needs them."""

    __slots__ = ("_ends", "_raws", "data", "start")

    def __init__(self, data: bytes, start: int) -> None:
        self.data = data
        self.start = start
        self._raws: list[bytes] | None = None
        self._ends: list[int] = []

    def split(self) -> tuple[list[bytes], list[int]]:
        if self._raws is None:
            raws: list[bytes] = []
            offset = self.start
            for raw in self.data.split(b"\n")[:-1]:
                offset += len(raw) + 1
                if raw.strip():
                    raws.append(raw)
                    self._ends.append(offset)
            self._raws = raws
        return self._raws, self._ends


class _Column(Sequence[T]):
    """One column (``0``: raws, ``1``: ends) of a ``_LineIndex``, split on first use."""

    __slots__ = ("_column", "_index")

    def __init__(self, index: _LineIndex, column: int) -> None:
        self._index = index
        self._column = column

    def _values(self) -> list[T]:
        values: list[T] = self._index.split()[self._column]  # type: ignore[assignment]
        return values

    @overload
    def __getitem__(self, item: int) -> T: ...
    @overload
    def __getitem__(self, item: slice) -> Sequence[T]: ...
    def __getitem__(self, item: int | slice) -> T | Sequence[T]:
        return self._values()[item]

    def __len__(self) -> int:
        return len(self._values())

    def __iter__(self) -> Iterator[T]:
        return iter(self._values())


def batch_of_lines(lines: bytes, *, start: int, generation: str) -> RecordBatch:
    """The records of ``lines`` — whole lines, each ended by ``\\n`` — that begin at
    offset ``start``; blank lines carry nothing and are not records."""
    index = _LineIndex(lines, start)
    raws: _Column[bytes] = _Column(index, 0)
    ends: _Column[int] = _Column(index, 1)
    return RecordBatch(generation, start, raws, ends, start + len(lines), lines)


class LogReader(Protocol):
    @property
    def position(self) -> Position:
        """Just after the last record handed out."""
        ...

    async def read(self, *, max_records: int = DEFAULT_MAX_RECORDS,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> RecordBatch | Rotation | None:
        """The next bounded batch after ``position``; ``None`` when nothing new is there
        right now. Never raises for content; OS errors propagate (the caller retries)."""
        ...

    async def aclose(self) -> None: ...


class EventLog(Protocol):
    name: str  # for people: a path, or nats://host/STREAM

    def reader(self, *, after: Position | None = None) -> LogReader:
        """Records after ``after`` (``None`` or offset 0: from the start). A position from
        another history makes the first ``read`` return a ``Rotation``."""
        ...

    async def current(self) -> Position:
        """The position of the log's end right now (health, admitting cursors)."""
        ...

    async def append(self, events: Sequence[Event | dict[str, Any]]) -> Position:
        """Append all of ``events`` at once, in order, durably; whole or not at all.
        Returns the position just after the last one."""
        ...

    async def read_at(self, positions: Sequence[Position]) -> list[bytes | None]:
        """The raw records that end at ``positions`` (``None`` where no record ends there)."""
        ...

    def notify(self) -> None:
        """Wake this process's readers after an append."""
        ...

    def retire(self, generation: str) -> None:
        """The history named ``generation`` is no longer what the log holds (a read back
        found other records where it noted its own): this process's readers start over
        from the log as it is, under another name, so no cursor of the old one is taken
        for the new. Readers notice at their next read; wake them with ``notify``."""
        ...

    async def changed(self) -> None:
        """Until the log may have changed: a notification, or a bounded re-check."""
        ...

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = ...) -> None:
        """Turn outside appends into wake-ups, until cancelled."""
        ...

    async def aclose(self) -> None: ...


class UnknownLog(ValueError):
    """A ``HARNESS_LOG`` value that names no backend."""


def check_log_setting(value: str) -> str:
    """``value`` if it names a backend (``file`` or ``nats://host:port/STREAM``, also
    ``tls://…``; see ``events.nats_address``)."""
    if value == "file":
        return value
    from events.nats_address import BadAddress, NatsAddress

    try:
        NatsAddress.parse(value)
    except BadAddress as error:
        raise UnknownLog(f"HARNESS_LOG: {error}") from None
    return value


def open_log(setting: str, data_dir: Path) -> EventLog:
    """The log ``setting`` (``HARNESS_LOG``) names: ``file`` is ``data_dir/runs.jsonl``."""
    check_log_setting(setting)
    if setting == "file":
        from events.filelog import FileLog

        return FileLog(data_dir / "runs.jsonl")
    try:
        from events.jetstream import JetStreamLog  # type: ignore[import-not-found, unused-ignore]
    except ImportError as error:
        raise UnknownLog(f"HARNESS_LOG={setting} needs the nats extra "
                         f"(pip install 'harness[nats]'): {error}") from None
    log: EventLog = JetStreamLog.from_url(setting)
    return log
