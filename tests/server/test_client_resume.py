"""The client's subscriber against a real server process: killed and restarted under
it, and its log replaced. It must end with exactly what a fresh GET shows."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from events.position import CursorRefused, Position, parse_cursor
from harness.client import (
    FROM_START,
    AsyncHarness,
    AsyncSubscription,
    Backoff,
    Bootstrap,
    LiveBoard,
    ResetMessage,
    RunItemMessage,
    RunProgressMessage,
)
from tests.support.events import append, run_history
from tests.support.processes import ServerProcess

pytestmark = pytest.mark.anyio

FAST = Backoff(first_s=0.05, max_s=0.5)
STATE_RANK = {"pending": 0, "running": 1, "awaiting": 2, "correct": 3, "incorrect": 3,
              "faulted": 3}


def comparable(board: Bootstrap) -> dict[str, Any]:
    """The board as JSON, without the two totals the stream does not carry."""
    data = msgspec.to_builtins(board)
    del data["totals"]["eventsApplied"], data["totals"]["problems"]
    return data


class Follower:
    """Folds a subscription into a LiveBoard and checks, message by message, that
    nothing arrives out of order: cursors only move forward within a log, and no item
    or run's progress ever goes back."""

    def __init__(self, subscription: AsyncSubscription) -> None:
        self.subscription = subscription
        self.board = LiveBoard()
        self.messages = 0
        self._cursor: Position | None = None
        self._items: dict[tuple[str, int], tuple[int, int]] = {}
        self._done: dict[str, int] = {}

    async def run(self) -> None:
        async with self.subscription:
            async for message in self.subscription:
                self.messages += 1
                self._check_order(message)
                self.board.apply(message, cursor=self.subscription.cursor)

    def _check_cursor(self) -> None:
        try:
            cursor = parse_cursor(self.subscription.cursor or "")
        except CursorRefused:
            return  # none yet
        if cursor.offset:
            if self._cursor is not None and cursor.generation == self._cursor.generation:
                assert cursor.offset >= self._cursor.offset, (self._cursor, cursor)
            self._cursor = cursor

    def _check_order(self, message: object) -> None:
        if isinstance(message, ResetMessage):
            self._cursor, self._items, self._done = None, {}, {}
            return
        self._check_cursor()
        if isinstance(message, RunItemMessage):
            key = (message.run_id, message.item.sequence)
            rank = (message.item.attempts, STATE_RANK[message.item.state])
            assert rank >= self._items.get(key, rank), (key, self._items[key], rank)
            self._items[key] = rank
        if isinstance(message, RunProgressMessage):
            done = message.progress.completed + message.progress.faulted
            assert done >= self._done.get(message.run_id, 0), message
            self._done[message.run_id] = done


async def eventually(condition: Callable[[], Any], *, timeout_s: float = 60,
                     message: str = "condition") -> None:
    with anyio.fail_after(timeout_s):
        while not await condition():
            await anyio.sleep(0.05)


async def converged(harness: AsyncHarness, follower: Follower) -> Bootstrap:
    """Wait until the follower stands where the server stands; return the server's board."""
    fresh: Bootstrap | None = None

    async def same_position() -> bool:
        nonlocal fresh
        fresh = await harness.data()
        return follower.board.position == fresh.position

    await eventually(same_position, message="the subscriber to reach the server's position")
    assert fresh is not None
    return fresh


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    process = ServerProcess(tmp_path)
    yield process
    process.stop()


async def test_a_subscriber_follows_a_live_run_through_two_server_kills(
        server: ServerProcess) -> None:
    server.start()
    async with AsyncHarness(server.url) as harness:
        created = await harness.create_run(
            provider_name="simulated", model_name="m", dataset_name="arithmetic", limit=40,
            concurrency=2, config={"seed": 3, "latencyMs": 200, "faultRate": 0})
        run_id = created.run.id
        follower = Follower(harness.subscribe(after=FROM_START, backoff=FAST))

        def done() -> int:
            record = follower.board.runs.get(run_id)
            return 0 if record is None else record.progress().completed

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(follower.run)
            for _ in range(2):
                before = done()

                async def moved(before: int = before) -> bool:
                    return done() >= before + 3

                await eventually(moved, message="the run to make progress")
                await anyio.to_thread.run_sync(server.kill)
                await anyio.to_thread.run_sync(server.start)

            async def finished() -> bool:
                record = follower.board.runs.get(run_id)
                return record is not None and record.info.status == "completed"

            await eventually(finished, timeout_s=120, message="the run to complete")
            fresh = await converged(harness, follower)
            tasks.cancel_scope.cancel()

        assert follower.subscription.connects >= 3  # the first, and one after each kill
        assert comparable(follower.board.snapshot()) == comparable(fresh)
        detail = await harness.run(run_id)
        assert detail.lifecycle.resumed_count >= 1  # the kills did land mid-run
        items = await harness.items(run_id, limit=1000)
        served = {item.sequence: item for group in items.groups.values() for item in group
                  if item.attempts}
        assert follower.board.runs[run_id].items == served


async def test_a_replaced_log_resets_the_subscriber_and_it_reconverges(
        server: ServerProcess) -> None:
    server.data_dir.mkdir(parents=True)
    append(server.log_path, *run_history("old-1"), *run_history("old-2", finish=None))
    server.start()
    async with AsyncHarness(server.url) as harness:
        follower = Follower(harness.subscribe(after=FROM_START, backoff=FAST))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(follower.run)
            await converged(harness, follower)
            assert set(follower.board.runs) == {"old-1", "old-2"}
            stale_cursor = follower.subscription.cursor

            replacement = server.data_dir / "runs.jsonl.new"
            append(replacement, *run_history("new-1", total=2, answers=(True, False)))
            os.replace(replacement, server.log_path)

            async def sees_new_log() -> bool:
                return "new-1" in follower.board.runs

            await eventually(sees_new_log, message="the subscriber to see the new log")
            fresh = await converged(harness, follower)
            tasks.cancel_scope.cancel()

        assert follower.subscription.resets == 1
        assert set(follower.board.runs) == {"new-1"}
        assert comparable(follower.board.snapshot()) == comparable(fresh)

        # A subscriber that comes back with a cursor of the old log is reset as well.
        late = Follower(harness.subscribe(after=stale_cursor, backoff=FAST))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(late.run)
            assert comparable(await converged(harness, late)) == comparable(fresh)
            assert comparable(late.board.snapshot()) == comparable(fresh)
            tasks.cancel_scope.cancel()
        assert late.subscription.resets == 1


async def test_the_subscriber_moves_to_a_replica_when_its_server_dies(tmp_path: Path) -> None:
    # Two servers reading one log are replicas of it: the same history, the same cursors.
    # (No run executes here: every event comes from an outside writer.)
    first = ServerProcess(tmp_path / "first", data_dir=tmp_path / "data")
    second = ServerProcess(tmp_path / "second", data_dir=tmp_path / "data")
    first.data_dir.mkdir(parents=True)
    append(first.log_path, *run_history("before", finish=None))
    try:
        first.start()
        second.start()
        async with AsyncHarness(first.url) as harness, AsyncHarness(second.url) as replica:
            follower = Follower(harness.subscribe(after=FROM_START, replicas=[second.url],
                                                  backoff=FAST))
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(follower.run)
                await converged(harness, follower)
                await anyio.to_thread.run_sync(first.kill)
                append(first.log_path, *run_history("after", total=2, answers=(True, True)))

                async def sees_after() -> bool:
                    return "after" in follower.board.runs

                await eventually(sees_after, message="the subscriber to read the replica")
                fresh = await converged(replica, follower)
                tasks.cancel_scope.cancel()
        assert follower.subscription.resets == 0  # the cursor was good on the replica
        assert follower.subscription.connects >= 2
        assert comparable(follower.board.snapshot()) == comparable(fresh)
    finally:
        first.stop()
        second.stop()
