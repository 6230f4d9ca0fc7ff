"""Appending events to the log so that several processes may write at once.

Each call builds whole lines, takes an exclusive ``flock``, and hands them to the
kernel in a single ``write`` on a descriptor opened with ``O_APPEND``: readers then see
a line either whole or not at all, and lines of different writers never interleave.
Python's buffered files are not used because they split and delay writes.

An append is whole or absent: if the write fails or is short (a full disk, a file-size
limit), the file is cut back to its size before the append, still under the lock, and
the error propagates.
"""

from __future__ import annotations

import fcntl
import os
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


def format_timestamp(moment: datetime) -> str:
    """``moment`` in the log's format: RFC 3339 UTC with milliseconds."""
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
    """Append ``events`` as consecutive lines in one write.

    A torn last line (a writer that died mid-line) is closed with a newline first, so
    that it becomes one bad line instead of corrupting the first line written here.
    Without ``wait_for_lock``, a lock held by another writer raises ``BlockingIOError``
    and nothing is written.
    """
    payload = b"".join(encode_line(event) for event in events)
    if not payload:
        raise ValueError("nothing to append")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait_for_lock else fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                payload = b"\n" + payload
            _write_whole(fd, payload, size, path)
            return Appended(size + len(payload), os.fstat(fd).st_ino,
                            os.pread(fd, head_bytes, 0))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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

