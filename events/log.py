"""The log as the rest of the server sees it: whole records in order, at opaque positions.

``events.filelog.FileLog`` — one JSONL file — is the embedded default. A distributed
log (NATS JetStream or Redis Streams, for runs that come from many machines) stands in
by implementing these two protocols with the same envelope (one JSON event per
record), positions as cursors (its stream's identity as the generation, its sequence
as the offset) and the same resume rules. ``tests/unit/test_log_contract.py`` is the
suite every backend must pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import anyio

from events.position import Position
from events.schema import Event
from events.tailer import Chunk, Rotation


class LogReader(Protocol):
    """Reads one log from its start in whole records and notices when that log is
    gone (truncated or replaced): it then yields a ``Rotation`` and starts over."""

    @property
    def position(self) -> Position: ...

    def read_new(self) -> Iterator[Chunk | Rotation]:
        """Every complete record added since the last call, lazily, in order."""
        ...


class EventLog(Protocol):
    @property
    def name(self) -> str:
        """Where the log lives, for people (a path, a stream's address)."""
        ...

    def reader(self) -> LogReader:
        """A new reader from the log's start."""
        ...

    def read_range(self, start: int, end: int) -> bytes:
        """The whole records between two offsets of the current generation."""
        ...

    def append(self, events: Iterable[Event | dict[str, Any]]) -> int:
        """Append ``events`` all at once, in order; the offset just after them."""
        ...

    def notify(self) -> None:
        """Tell waiting readers of this process that something was appended."""
        ...

    async def changed(self) -> None:
        """Until the log may have changed: a notification, or a bounded re-check."""
        ...

    async def watch(self, *, task_status: anyio.abc.TaskStatus[None] = ...) -> None:
        """Turn outside appends into notifications, until cancelled."""
        ...
