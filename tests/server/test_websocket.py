"""The WebSocket feed: every record as it lands, replay from a cursor, resets."""

from __future__ import annotations

import os

import anyio
import httpx
import orjson
import pytest
import websockets

from events.decoding import Record, decode_records
from events.log import batch_of_lines
from tests.support.events import append, run_history
from tests.support.servers import RunningServer

pytestmark = pytest.mark.anyio


def records_in_log(server: RunningServer) -> list[tuple[str, dict]]:
    """(position, record) for every event line of the log, as the feed should send them."""
    generation = httpx.get(f"{server.url}/api/health").json()["position"].split(":")[0]
    data = server.log_path.read_bytes()
    batch = batch_of_lines(data[: data.rfind(b"\n") + 1], start=0, generation=generation)
    return [(f"{generation}:{r.end}", orjson.loads(r.raw))
            for r in decode_records(batch) if isinstance(r, Record)]


async def receive(socket: websockets.ClientConnection, count: int) -> list[dict]:
    with anyio.fail_after(10):
        return [orjson.loads(await socket.recv()) for _ in range(count)]


async def test_records_are_sent_as_they_land_with_their_positions(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ws_url}/ws/runs") as socket:
        history = run_history("a", total=2, answers=(True, False))
        append(server.log_path, *history)
        with server.log_path.open("ab") as log:
            log.write(b"not json\n")
        messages = await receive(socket, len(history))
    assert [m["record"]["type"] for m in messages] == [e.__struct_config__.tag for e in history]
    assert [(m["position"], m["record"]) for m in messages] == records_in_log(server)


async def test_after_replays_from_the_log_then_goes_live_with_no_gap_or_duplicate(
        server: RunningServer) -> None:
    append(server.log_path, *run_history("a", total=3))
    cursor = records_in_log(server)[4][0]  # somewhere in the middle of run a
    async with websockets.connect(f"{server.ws_url}/ws/runs?after={cursor}") as socket:
        append(server.log_path, *run_history("b", total=2))  # while it replays
        expected = [r for r in records_in_log(server) if int(r[0].split(":")[1]) >
                    int(cursor.split(":")[1])]
        messages = await receive(socket, len(expected))
        assert [(m["position"], m["record"]) for m in messages] == expected
        append(server.log_path, *run_history("c", total=1, answers=(True,)))
        more = await receive(socket, 5)
        assert [m["record"]["runId"] for m in more] == ["c"] * 5


async def test_a_foreign_cursor_or_a_replaced_log_sends_reset(server: RunningServer) -> None:
    append(server.log_path, *run_history("a"))
    async with websockets.connect(f"{server.ws_url}/ws/runs?after=feedbeef:1") as socket:
        assert (await receive(socket, 1))[0]["type"] == "reset"
    server.settle()
    async with websockets.connect(f"{server.ws_url}/ws/runs") as socket:
        fresh = server.log_path.with_name("fresh.jsonl")
        append(fresh, *run_history("new", total=1, answers=(True,)))
        os.replace(fresh, server.log_path)
        message = (await receive(socket, 1))[0]
        assert message["type"] == "reset"
        assert message["position"] == httpx.get(f"{server.url}/api/health").json()["position"]
