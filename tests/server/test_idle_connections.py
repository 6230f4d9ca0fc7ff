"""Silent and slow connections cannot wear the server down: with 500 of them open
against a process allowed 256 file descriptors, the log reader goes on and new clients
are served; a client trickling its headers or its body is cut off.

The first server runs as ``python run.py`` in its own process, its descriptor limit lowered
as an operator's ``ulimit -n`` would; every socket is on loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx

from bench.common import server_process
from events import schema as ev
from harness.settings import Settings
from tests.support.events import TS, append
from tests.support.waiting import wait_until
from web.connections import HEADER_TIMEOUT_S

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


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_a_client_trickling_its_headers_is_cut_off(server_factory, settings: Settings) -> None:
    server = server_factory(replace(settings, header_timeout_s=0.5))
    with socket.create_connection(("127.0.0.1", server.settings.port)) as sock:
        sock.settimeout(HEADER_TIMEOUT_S + 10)  # a hang fails the test instead of holding it
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        assert read_until_closed(sock) == b""


def test_a_client_trickling_its_body_gets_408(server_factory, settings: Settings) -> None:
    server = server_factory(replace(settings, body_timeout_s=0.5))
    with socket.create_connection(("127.0.0.1", server.settings.port)) as sock:
        sock.settimeout(10)
        sock.sendall(b"POST /api/memory HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"te")
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"request_timeout"' in answer
    assert not (server.settings.data_dir / "memory.jsonl").exists()
