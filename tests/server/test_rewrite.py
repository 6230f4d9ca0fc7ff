"""Positions name one history (#9, point 3): a log rewritten in place — the same inode and
the same first line — is a new history. Subscribers get ``reset``, the read models are
rebuilt to what a cold replay of the file shows, and cursors of the old history are
refused."""

from __future__ import annotations

import json

import anyio
import httpx
import orjson
import pytest
import websockets

from events.writer import encode_line
from harness.cli import main as cli_main
from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.sse import sse_stream
from tests.support.waiting import wait_until

pytestmark = pytest.mark.anyio


def rewrite_in_place(server: RunningServer) -> None:
    """``ftruncate`` and write, keeping the first line: another history, just as long."""
    path = server.log_path
    first = path.read_bytes().split(b"\n", 1)[0] + b"\n"
    rest = b"".join(encode_line(e) for e in [*run_history("a")[1:], *run_history("z", total=5)])
    with path.open("r+b") as log:
        log.truncate(0)
        log.write(first + rest)


async def test_a_rewrite_in_place_keeping_the_first_line_resets_and_rebuilds(
        server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    append(server.log_path, *run_history("a"))
    append(server.log_path, *run_history("b"))
    old = server.settle()
    async with (websockets.connect(f"{server.ws_url}/ws/runs") as socket,
                sse_stream(server.url, after=old) as stream):
        rewrite_in_place(server)
        with anyio.fail_after(10):
            assert orjson.loads(await socket.recv())["type"] == "reset"
        assert (await stream.next()).event == "reset"
    now = wait_until(lambda: (p := server.settle()) != old and p, message="rebuilt")
    assert now.split(":")[0] != old.split(":")[0]  # a new generation, same inode and first line
    replay = ["replay", str(server.log_path), "--json"]
    assert await anyio.to_thread.run_sync(cli_main, replay) == 0
    cold = json.loads(capsys.readouterr().out)
    assert cold["runs"] == httpx.get(f"{server.url}/api/runs").json()["runs"]
    assert [summary["run"]["id"] for summary in cold["runs"]] == ["z", "a"]
    async with websockets.connect(f"{server.ws_url}/ws/runs?after={old}") as socket:
        with anyio.fail_after(10):
            assert orjson.loads(await socket.recv()) == {"type": "reset", "position": now}
    async with sse_stream(server.url, after=old) as stream:
        message = await stream.next()
        assert (message.event, message.id) == ("reset", now)
