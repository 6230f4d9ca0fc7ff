"""The contract every log backend keeps (``events.log.EventLog``).

Parametrised over backends: the file today; a distributed log (NATS JetStream, Redis
Streams) adds itself to ``BACKENDS`` with a way to replace its stream, and must pass
every test here unchanged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
import msgspec
import pytest

from events import schema as ev
from events.filelog import FileLog
from events.log import EventLog
from events.tailer import Chunk, Rotation
from events.writer import append_events

TS = datetime(2026, 3, 6, 19, 43, 11, 123_000, tzinfo=UTC)


@dataclass
class Backend:
    log: EventLog
    replace: Callable[[list[ev.Event]], None]  # swap in a different log with these events


def file_backend(tmp_path: Path) -> Backend:
    path = tmp_path / "runs.jsonl"

    def replace(events: list[ev.Event]) -> None:
        fresh = tmp_path / "fresh.jsonl"
        append_events(fresh, events)
        os.replace(fresh, path)

    # A re-check far beyond the tests' deadlines: only a real notification wakes a reader.
    return Backend(FileLog(path, recheck_s=60), replace)


BACKENDS = {"file": file_backend}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](tmp_path)


def log_line(number: int) -> ev.RunLog:
    return ev.RunLog(run_id="r", level="info", message=f"line {number}", ts=TS)


def messages(chunks: list[Chunk | Rotation]) -> list[str]:
    return [msgspec.json.decode(line)["message"]
            for chunk in chunks if isinstance(chunk, Chunk)
            for line in chunk.data.splitlines()]


def test_appended_events_come_back_whole_in_order_at_growing_positions(backend: Backend) -> None:
    reader = backend.log.reader()
    ends = [backend.log.append([log_line(n)]) for n in range(3)]
    ends.append(backend.log.append([log_line(3), log_line(4)]))
    assert ends == sorted(ends) and len(set(ends)) == len(ends)
    assert messages(list(reader.read_new())) == [f"line {n}" for n in range(5)]
    assert reader.position.offset == ends[-1]
    assert list(reader.read_new()) == []


def test_a_range_holds_exactly_the_records_between_two_positions(backend: Backend) -> None:
    first = backend.log.append([log_line(0)])
    second = backend.log.append([log_line(1), log_line(2)])
    backend.log.append([log_line(3)])
    data = backend.log.read_range(first, second)
    assert [msgspec.json.decode(line)["message"] for line in data.splitlines()] == [
        "line 1", "line 2"]


def test_appends_from_many_threads_are_all_kept_and_never_interleaved(backend: Backend) -> None:
    def write(writer: int) -> None:
        for number in range(50):
            backend.log.append([log_line(writer * 1000 + number), log_line(-1)])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = messages(list(backend.log.reader().read_new()))
    assert len(lines) == 400
    pairs = list(zip(lines[::2], lines[1::2], strict=True))  # each append stayed together
    assert all(second == "line -1" for _, second in pairs)


def test_a_new_reader_reaches_the_same_position(backend: Backend) -> None:
    backend.log.append([log_line(0), log_line(1)])
    first, second = backend.log.reader(), backend.log.reader()
    list(first.read_new())
    list(second.read_new())
    assert first.position == second.position
    assert second.position.admits(first.position)


def test_a_reader_reports_a_replaced_log_and_then_reads_the_new_one(backend: Backend) -> None:
    reader = backend.log.reader()
    backend.log.append([log_line(0)])
    list(reader.read_new())
    old = reader.position
    backend.replace([log_line(7)])
    chunks = list(reader.read_new())
    assert isinstance(chunks[0], Rotation)
    assert messages(chunks) == ["line 7"]
    assert not reader.position.admits(old)


@pytest.mark.anyio
async def test_waiting_readers_wake_on_an_append_from_this_or_another_writer(
        backend: Backend) -> None:
    backend.log.append([log_line(0)])
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            await tasks.start(backend.log.watch)
            backend.log.append([log_line(1)])
            backend.log.notify()
            await backend.log.changed()  # this process's append, notified
            await anyio.to_thread.run_sync(backend.log.append, [log_line(2)])
            await backend.log.changed()  # an append the watch saw
            tasks.cancel_scope.cancel()
