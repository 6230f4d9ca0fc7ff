"""A real server process reads past any line it cannot decode (#9, point 2): invalid UTF-8,
nesting 5,000 deep. It keeps serving, counts each line in health, starts again over the
same log, the replay CLI folds it, and WebSocket clients and ``?after=`` resumes get every
record that can be sent."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import orjson
import pytest
import websockets

from tests.support.events import append, run_history
from tests.support.processes import REPO, ServerProcess
from tests.support.sse import sse_stream
from tests.support.waiting import wait_until

INVALID_UTF8 = b'{"type":"run_log","runId":"a","level":"info","message":"\xff"}'
# Accepted by the decoder (the key is not in the schema) but not text: cannot be sent.
INVALID_UTF8_IGNORED = b'{"type":"run_log","runId":"a","level":"info","message":"m","x":"\xfe"}'
DEEP = b'{"type":"run_log","runId":"a","level":"info","message":"m","x":' + (
    b"[" * 5000 + b"]" * 5000 + b"}")
BAD_LINES = (INVALID_UTF8, INVALID_UTF8_IGNORED, DEEP)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path)
    process.data_dir.mkdir()
    append(process.log_path, *run_history("a"))
    with process.log_path.open("ab") as log:
        log.write(b"".join(line + b"\n" for line in BAD_LINES))
    append(process.log_path, *run_history("b"))
    yield process
    process.stop()


def good_records(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines()
               if line.strip() and line not in BAD_LINES)


def settled(server: ServerProcess) -> dict:
    size = server.log_path.stat().st_size
    return wait_until(lambda: (h := server.health())["position"].endswith(f":{size}") and h,
                      message="the server read the whole log")


def test_bad_lines_are_counted_and_the_server_serves_and_restarts(server: ServerProcess) -> None:
    server.start()
    health = settled(server)
    assert health["status"] == "ok"
    assert health["problems"] == {"invalid_utf8": 2, "too_deep": 1}
    runs = httpx.get(f"{server.url}/api/runs").json()["runs"]
    assert sorted(run["run"]["id"] for run in runs) == ["a", "b"]
    append(server.log_path, *run_history("c", total=1, answers=(True,)))
    with server.log_path.open("ab") as log:
        log.write(INVALID_UTF8 + b"\n")
    health = settled(server)
    assert health["problems"]["invalid_utf8"] == 3
    server.kill()
    server.start()  # the same log, bad lines and all
    assert settled(server)["problems"] == {"invalid_utf8": 3, "too_deep": 1}
    cli = subprocess.run([sys.executable, "-m", "harness", "replay", str(server.log_path),
                          "--json"], capture_output=True, timeout=60, cwd=REPO)
    assert cli.returncode == 0, cli.stderr
    assert [s["run"]["id"] for s in orjson.loads(cli.stdout)["runs"]] == ["c", "b", "a"]


@pytest.mark.anyio
async def test_websocket_and_sse_resumes_read_past_bad_lines(server: ServerProcess) -> None:
    server.start()
    start = settled(server)["position"]
    generation = start.split(":")[0]
    ws_url = server.url.replace("http", "ws")
    with anyio.fail_after(20):
        async with websockets.connect(f"{ws_url}/ws/runs?after={generation}:0") as socket:
            messages = [orjson.loads(await socket.recv())
                        for _ in range(good_records(server.log_path))]
            assert [m["record"]["runId"] for m in messages][-1] == "b"
            append(server.log_path, *run_history("c", total=1, answers=(True,)))
            with server.log_path.open("ab") as log:
                log.write(INVALID_UTF8_IGNORED + b"\n")
            append(server.log_path, *run_history("d", total=1, answers=(True,)))
            live = [orjson.loads(await socket.recv()) for _ in range(14)]
            assert [m["record"]["runId"] for m in live] == ["c"] * 7 + ["d"] * 7
        async with websockets.connect(f"{ws_url}/ws/runs?after={start}") as socket:
            again = [orjson.loads(await socket.recv()) for _ in range(14)]
            assert again == live  # a resume from before the bad line: the same records
        async with sse_stream(server.url, after=f"{generation}:0") as stream:
            message = await stream.next()
            assert message.event in ("run_item", "run_progress", "run_status")
    assert server.health()["subscribers"]["websocketSkipped"] >= 1

