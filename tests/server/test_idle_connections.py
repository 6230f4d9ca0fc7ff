"""Silent connections cannot wear the server down: with 500 of them open against a
process allowed 256 file descriptors, the log reader goes on and new clients are served.

The server runs as ``python run.py`` in its own process, its descriptor limit lowered
as an operator's ``ulimit -n`` would; every socket is on loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.common import server_process
from events import schema as ev
from tests.support.events import TS, append
from tests.support.waiting import wait_until

IDLE_CONNECTIONS = 500
MAX_OPEN_FILES = 256


def open_idle(port: int, count: int) -> Iterator[socket.socket]:
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        yield sock


def test_500_idle_connections_stop_neither_the_log_reader_nor_new_clients(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with server_process(data_dir, env={"HARNESS_SEMANTIC_MEMORY": "0"},
                        max_open_files=MAX_OPEN_FILES) as (url, _process):
        port = int(url.rsplit(":", 1)[1])
        idle = list(open_idle(port, IDLE_CONNECTIONS))
        try:
            append(data_dir / "runs.jsonl", ev.RunCreated(
                run_id="after-the-flood", provider_name="p", model_name="m", dataset_name="d",
                total=1, ts=TS))
            size = (data_dir / "runs.jsonl").stat().st_size

            def read_to_the_end() -> bool:
                try:
                    position = httpx.get(f"{url}/api/health", timeout=2).json()["position"]
                except httpx.TransportError:
                    return False
                return position.endswith(f":{size}")

            wait_until(read_to_the_end, timeout_s=20, interval_s=0.1,
                       message="a new client sees the appended line")
            written = httpx.post(f"{url}/api/memory", json={"text": "still writing"}, timeout=5)
            assert written.status_code == 201
            usage = httpx.get(f"{url}/api/health", timeout=5).json()["connections"]
            assert usage["open"] <= usage["limit"] < MAX_OPEN_FILES
            assert usage["filesOpen"] < usage["filesLimit"] == MAX_OPEN_FILES
        finally:
            for sock in idle:
                sock.close()
