"""The contract every log backend keeps (``events.log.EventLog``).

Parametrised over ``BACKENDS``: the file today; another backend adds itself there with
one line — a factory that makes a fresh, empty log and knows how to replace its history
and how to append as another process would — and must pass every test here unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
import anyio.to_thread
import msgspec
import pytest

from events import schema as ev
from events.filelog import FileLog
from events.jetstream import JetStreamLog
from events.log import EventLog, LogGap, RecordBatch, Rotation
from events.position import CursorRefused, Position, judge_cursor
from events.writer import append_events
from projections.readmodels import ReadModels
from tests.support.nats import NatsServer

pytestmark = pytest.mark.anyio
TS = datetime(2026, 3, 6, 19, 43, 11, 123_000, tzinfo=UTC)


@dataclass
class Backend:
    log: EventLog
    # Swap in another history holding these events (a replaced file, a purged stream).
    replace: Callable[[list[ev.Event]], Awaitable[None]]
    # Append as another process would, without telling this process's readers.
    outside_append: Callable[[list[ev.Event]], Awaitable[None]]


def file_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    path = tmp_path / "runs.jsonl"

    async def replace(events: list[ev.Event]) -> None:
        fresh = tmp_path / "fresh.jsonl"
        append_events(fresh, events)
        fresh.replace(path)

    async def outside_append(events: list[ev.Event]) -> None:
        await anyio.to_thread.run_sync(append_events, path, events)

    # A re-check far beyond the tests' deadlines: only a real notification wakes a reader.
    return Backend(FileLog(path, recheck_s=60), replace, outside_append)


def jetstream_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A stream on a real ``nats-server -js`` (skipped where it is not installed)."""
    server: NatsServer = request.getfixturevalue("nats_server")
    url = server.log_url("CONTRACT")

    async def replace(events: list[ev.Event]) -> None:  # a purge starts another history
        other = JetStreamLog(url)
        await (await other.jetstream()).purge_stream("CONTRACT")
        await other.append(events)
        await other.aclose()

    async def outside_append(events: list[ev.Event]) -> None:
        other = JetStreamLog(url)
        await other.append(events)
        await other.aclose()

    return Backend(JetStreamLog(url, recheck_s=60), replace, outside_append)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "file": file_backend,
    "jetstream": jetstream_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    made = BACKENDS[request.param](request, tmp_path)
    yield made
    await made.log.aclose()


def log_line(number: int) -> ev.RunLog:
    return ev.RunLog(run_id="r", level="info", message=f"line {number}", ts=TS)


def message(raw: bytes) -> str:
    return str(msgspec.json.decode(raw)["message"])


async def read_all(log: EventLog, *, after: Position | None = None, **bounds: int
                   ) -> tuple[list[RecordBatch | Rotation], Position]:
    reader = log.reader(after=after)
    batches: list[RecordBatch | Rotation] = []
    while (batch := await reader.read(**bounds)) is not None:
        batches.append(batch)
    position = reader.position
    await reader.aclose()
    return batches, position


def records(batches: list[RecordBatch | Rotation]) -> list[tuple[Position, str]]:
    return [(batch.position_of(index), message(raw))
            for batch in batches if isinstance(batch, RecordBatch)
            for index, raw in enumerate(batch.raws)]


async def fill(log: EventLog, count: int) -> list[Position]:
    return [await log.append([log_line(n)]) for n in range(count)]


async def test_appended_events_come_back_whole_in_order_at_their_positions(
        backend: Backend) -> None:
    positions = [await backend.log.append([log_line(n)]) for n in range(3)]
    positions.append(await backend.log.append([log_line(3), log_line(4)]))
    offsets = [p.offset for p in positions]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    batches, end = await read_all(backend.log)
    got = records(batches)
    assert [text for _, text in got] == [f"line {n}" for n in range(5)]
    assert [got[i][0] for i in (0, 1, 2, 4)] == positions  # append answers where it ends
    assert end == positions[-1] == await backend.log.current()


async def test_a_reader_after_any_position_gets_exactly_the_records_after_it(
        backend: Backend) -> None:
    positions = await fill(backend.log, 6)
    everything = records((await read_all(backend.log))[0])
    for index, position in enumerate(positions):
        batches, end = await read_all(backend.log, after=position)
        assert records(batches) == everything[index + 1:]
        assert end == positions[-1]
    start = Position(positions[0].generation, 0)
    assert records((await read_all(backend.log, after=start))[0]) == everything


async def test_batches_are_bounded_and_follow_each_other_without_gaps(
        backend: Backend) -> None:
    await fill(backend.log, 7)
    by_count, _ = await read_all(backend.log, max_records=2)
    assert [len(b.raws) for b in by_count if isinstance(b, RecordBatch)] == [2, 2, 2, 1]
    by_bytes, _ = await read_all(backend.log, max_bytes=1)  # at least one record each
    assert [len(b.raws) for b in by_bytes if isinstance(b, RecordBatch)] == [1] * 7
    for batches in (by_count, by_bytes):
        whole = [b for b in batches if isinstance(b, RecordBatch)]
        assert [b.start for b in whole[1:]] == [b.end for b in whole[:-1]]
        assert all(b.ends[-1] <= b.end for b in whole)


async def test_read_at_gives_back_the_records_that_end_at_positions(backend: Backend) -> None:
    positions = await fill(backend.log, 3)
    foreign = Position("feedbeef", positions[1].offset)
    raws = await backend.log.read_at([positions[2], positions[0], foreign,
                                      Position(positions[0].generation, 0)])
    assert [message(raw) if raw else None for raw in raws] == ["line 2", "line 0", None, None]


async def test_read_at_gives_back_long_records_whole(backend: Backend) -> None:
    texts = ["x" * 5000, "short", "y" * 70_000, "z"]
    positions = [await backend.log.append([ev.RunLog(run_id="r", level="info", message=text,
                                                     ts=TS)]) for text in texts]
    raws = await backend.log.read_at(positions[::-1])
    assert [message(raw) if raw else None for raw in raws] == texts[::-1]


async def test_appends_from_many_tasks_are_all_kept_and_never_interleaved(
        backend: Backend) -> None:
    async def write(writer: int) -> None:
        for number in range(25):
            await backend.log.append([log_line(writer * 1000 + number), log_line(-1)])

    async with anyio.create_task_group() as tasks:
        for writer in range(4):
            tasks.start_soon(write, writer)
    lines = [text for _, text in records((await read_all(backend.log))[0])]
    assert len(lines) == 200
    pairs = list(zip(lines[::2], lines[1::2], strict=True))  # each append stayed together
    assert all(second == "line -1" for _, second in pairs)


async def test_a_replaced_history_is_a_rotation_and_its_old_positions_are_refused(
        backend: Backend) -> None:
    old = (await fill(backend.log, 2))[-1]
    reader = backend.log.reader()
    while await reader.read() is not None:
        pass
    await backend.replace([log_line(7), log_line(8)])
    rotation = await reader.read()
    assert isinstance(rotation, Rotation) and rotation.generation != old.generation
    batch = await reader.read()
    assert isinstance(batch, RecordBatch) and batch.start == 0
    assert [message(raw) for raw in batch.raws] == ["line 7", "line 8"]
    await reader.aclose()
    now = await backend.log.current()
    assert now.generation == rotation.generation
    with pytest.raises(CursorRefused):
        judge_cursor(str(old), now)
    batches, _ = await read_all(backend.log, after=old)  # asked for anyway: told so first
    assert isinstance(batches[0], Rotation)
    assert [text for _, text in records(batches)] == ["line 7", "line 8"]


async def test_the_fold_skips_a_redelivery_and_refuses_a_gap(backend: Backend) -> None:
    await fill(backend.log, 4)
    batches, _ = await read_all(backend.log, max_records=2)
    first, second = (b for b in batches if isinstance(b, RecordBatch))
    models = ReadModels()
    models.apply_batch(first)
    models.apply_batch(first)  # delivered again: already applied
    assert models.events_applied == 0 and models.problems.counts == {"unknown_run": 2}
    models.apply_batch(second)
    assert models.problems.total == 4 and models.position == second.position
    with pytest.raises(LogGap):
        ReadModels().apply_batch(second)


async def test_waiting_readers_wake_on_an_append_from_this_or_another_writer(
        backend: Backend) -> None:
    await backend.log.append([log_line(0)])
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            await tasks.start(backend.log.watch)
            await backend.log.append([log_line(1)])
            backend.log.notify()
            await backend.log.changed()  # this process's append, notified
            await backend.outside_append([log_line(2)])
            await backend.log.changed()  # an append the watch saw
            tasks.cancel_scope.cancel()
