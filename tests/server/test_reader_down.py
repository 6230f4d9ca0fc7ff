"""A reader nothing can stop (#9, point 4): OS errors while reading the log are retried
with backoff and shown in health, a command answers 503 within its deadline while the
reader cannot catch up, and everything recovers by itself once the log reads again.
EMFILE is produced for real, with ``prlimit``, in a server process of its own."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.processes import ServerProcess
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


def test_a_command_while_the_reader_is_down_is_503_in_time_and_all_recovers(
        server_factory: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    server: RunningServer = server_factory(replace(settings, append_deadline_s=0.5))
    append(server.log_path, *run_history("a"))
    server.settle()
    failing = threading.Event()
    real_open = os.open
    log = str(server.log_path)

    def disk_failing_for_readers(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        # The OS boundary: reads of the log fail with EIO; writes still work.
        if failing.is_set() and str(path) == log and not flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EIO, "Input/output error", log)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", disk_failing_for_readers)
    failing.set()
    append(server.log_path, *run_history("b"))  # the reader tries, and fails
    health = wait_until(lambda: (h := httpx.get(f"{server.url}/api/health")).status_code == 503
                        and h.json(), message="health showing the reader's errors")
    assert "Input/output error" in health["failures"]["log reader"]
    started = time.monotonic()
    answer = httpx.post(f"{server.url}/api/feedback", json={"runId": "a", "rating": "up"},
                        timeout=10)
    assert answer.status_code == 503
    assert time.monotonic() - started < 5  # the deadline, not forever
    assert answer.json()["error"]["code"] == "log_unavailable"
    failing.clear()
    server.settle()  # caught up by itself: run b, and the feedback that was written
    health = httpx.get(f"{server.url}/api/health").json()
    assert health["status"] == "ok" and health["readerErrors"] >= 1
    assert httpx.get(f"{server.url}/api/runs/a").json()["run"]["feedback"]["rating"] == "up"
    assert httpx.get(f"{server.url}/api/runs/b").status_code == 200


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_reader_out_of_file_descriptors_survives_and_catches_up(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.data_dir.mkdir()
    append(server.log_path, *run_history("a"))
    try:
        server.start()
        assert server.process is not None
        pid = server.process.pid
        # Lowered under the running server (its connection cap was sized by the limit it
        # started with), to a few descriptors above what it holds: idle connections then
        # take the last ones, as they would on a busy server.
        limit = open_fds(pid) + 4
        subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limit}:{limit}"], check=True)
        idle: list[socket.socket] = []
        try:
            host, port = server.url.removeprefix("http://").split(":")
            for _ in range(8):  # idle connections, each a descriptor of the server's
                idle.append(socket.create_connection((host, int(port))))
            wait_until(lambda: open_fds(pid) >= limit, timeout_s=20,
                       message="the server out of file descriptors")
            append(server.log_path, *run_history("b"))  # the reader must open the log now
            wait_until(lambda: "cannot read log" in server.output, timeout_s=20,
                       message="the reader failing with EMFILE")
            assert "Too many open files" in server.output
        finally:
            for connection in idle:
                connection.close()
        size = server.log_path.stat().st_size

        def caught_up() -> dict | None:
            try:
                health = server.health()
            except httpx.TransportError:
                # Turned away (reset) until it has seen the idle connections close: a
                # poll sent right after closing them can be.
                return None
            return health if health["position"].endswith(f":{size}") else None

        health = wait_until(caught_up, timeout_s=30, message="the reader caught up")
        assert health["status"] == "ok" and health["readerErrors"] >= 1
        assert httpx.get(f"{server.url}/api/runs/b").status_code == 200
    finally:
        server.stop()
