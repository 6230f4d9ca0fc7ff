"""The WebSocket feed: every record as it lands, replay from a cursor, resets."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
import websockets

from events.decoding import Record, decode_records
from events.log import batch_of_lines
from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.processes import ServerProcess
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until

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
    # A cursor past what the server has read names no point of its log yet (a reset):
    # this asked at once and passed only because each httpx client took ~45 ms to make.
    server.settle()
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


BIG_PROMPT = "Which is right? " + "x" * 4000 + " {}"


async def test_resumes_from_the_start_of_a_long_log_hold_one_batch_each_and_stay_gapless(
        tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.data_dir.mkdir()
    # About 15 MB: six resumes that each held the log would grow the server by 90 MB.
    for number in range(30):
        append(server.log_path, *run_history(f"r{number}", total=25, answers=(True,) * 25,
                                             prompt=BIG_PROMPT))
    try:
        server.start()
        assert server.process is not None
        generation = server.health()["position"].split(":")[0]
        before = rss_mb(server.process.pid)
        url = f"{server.url.replace('http', 'ws')}/ws/runs?after={generation}:0"
        stalled = [await websockets.connect(url, max_queue=1) for _ in range(6)]
        wait_until(lambda: server.health()["subscribers"]["websocket"] == 6,
                   message="every client connected")
        size = server.log_path.stat().st_size
        grown = rss_mb(server.process.pid) - before
        assert grown < 60, f"server RSS grew {grown:.0f} MB for six resumes of {size >> 20} MB"
        async with websockets.connect(url, max_size=None) as reader:
            append(server.log_path, *run_history("late", total=2))  # while it catches up
            expected = records_in_log(server)
            with anyio.fail_after(60):
                got = [orjson.loads(await reader.recv()) for _ in range(len(expected))]
            assert [(m["position"], m["record"]) for m in got] == expected
            append(server.log_path, *run_history("live", total=1, answers=(True,)))
            with anyio.fail_after(10):
                more = [orjson.loads(await reader.recv()) for _ in range(7)]
            assert [m["record"]["runId"] for m in more] == ["live"] * 7
        # They never read again: drop them as a killed client would. A close handshake
        # waits for the server's close frame behind megabytes they never read, its full
        # close timeout (10 s) each.
        for socket in stalled:
            socket.transport.abort()
    finally:
        server.stop()


async def test_a_client_that_falls_behind_is_dropped_and_resumes_without_a_gap(
        server_factory: Any, settings: Settings) -> None:
    server = server_factory(replace(settings, stream_buffer=4))
    append(server.log_path, *run_history("a", total=1, answers=(True,)))
    start = server.settle()
    async with websockets.connect(f"{server.ws_url}/ws/runs?after={start}",
                                  max_queue=1) as socket:
        appended = 0
        with anyio.fail_after(30):
            while not httpx.get(f"{server.url}/api/health").json()["subscribers"]["dropped"]:
                append(server.log_path, *run_history(f"b{appended}", total=2, answers=(True, False),
                                                     prompt="y" * 40_000 + BIG_PROMPT))
                appended += 1
        received = []
        with anyio.fail_after(30):
            try:
                while True:
                    received.append(orjson.loads(await socket.recv()))
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1013
    last = received[-1]["position"] if received else start
    server.settle()
    expected = [r for r in records_in_log(server) if int(r[0].split(":")[1]) >
                int(last.split(":")[1])]
    async with websockets.connect(f"{server.ws_url}/ws/runs?after={last}",
                                  max_size=None) as socket:
        with anyio.fail_after(30):
            rest = [orjson.loads(await socket.recv()) for _ in range(len(expected))]
    everything = [(m["position"], m["record"]) for m in received + rest]
    assert everything == [r for r in records_in_log(server)
                          if int(r[0].split(":")[1]) > int(start.split(":")[1])]
