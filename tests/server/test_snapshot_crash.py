"""A server killed (SIGKILL) while it writes a snapshot starts again showing exactly what
a full replay of the log shows: an older snapshot plus the tail, or the whole log,
never a torn snapshot."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx

from events import schema as ev
from tests.support.events import TS, append, run_history
from tests.support.processes import ServerProcess

SNAPSHOT_OFTEN = {"HARNESS_SNAPSHOT_EVENTS": "1", "HARNESS_SNAPSHOT_S": "1"}


def _what_it_shows(url: str) -> dict[str, object]:
    archive = httpx.get(f"{url}/api/runs", params={"limit": 200}, timeout=10).json()
    shown: dict[str, object] = {"archive": archive,
                                "totals": httpx.get(f"{url}/api/data", timeout=10).json()[
                                    "totals"]}
    for run_id in ("run-0", "run-7", "extra-0", "extra-2"):
        response = httpx.get(f"{url}/api/runs/{run_id}/items", timeout=10)
        shown[run_id] = response.json() if response.status_code == 200 else response.status_code
    return shown


def _files(snapshots: Path, suffix: str) -> set[str]:
    return {p.name for p in snapshots.iterdir() if p.suffix == suffix} if snapshots.is_dir() \
        else set()


def _wait_for_new(snapshots: Path, suffix: str, before: set[str], *,
                  timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _files(snapshots, suffix) - before:
            return True
        time.sleep(0.001)  # the temporary file lives for a write's few milliseconds
    return False


def _kill_mid_write(server: ServerProcess, log: Path, snapshots: Path, attempt: int) -> bool:
    """Move the log on and SIGKILL the server as soon as it starts writing the snapshot
    that follows (a new temporary file appears). A write seen only once it is whole was
    missed: the log moves on again, up to ten times; then the server is killed anyway.
    Whether the kill hit a write. One minute in all: a server that no longer writes
    snapshots fails the test, it does not hold the run up for ten."""
    deadline = time.monotonic() + 60
    for move in range(10):
        temporary, whole = _files(snapshots, ".tmp"), _files(snapshots, ".snapshot")
        append(log, ev.RunLog(run_id="run-7", level="info", message=f"kill {attempt}.{move}",
                              ts=TS))
        while time.monotonic() < deadline:
            if _files(snapshots, ".tmp") - temporary:
                server.kill()
                return True
            if _files(snapshots, ".snapshot") - whole:
                break
            time.sleep(0.001)
    server.kill()
    return False


def test_a_server_killed_while_writing_a_snapshot_restarts_correct(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env=SNAPSHOT_OFTEN, ready_timeout_s=120)
    server.data_dir.mkdir()
    log = server.data_dir / "runs.jsonl"
    for number in range(250):  # a snapshot big enough to take a while to write
        append(log, *run_history(f"run-{number}", total=5, answers=(True,) * 5,
                                 prompt="Question {} " + "x" * 300))
    snapshots = server.data_dir / "snapshots"
    try:
        server.start()
        assert _wait_for_new(snapshots, ".snapshot", set()), "no snapshot was written"
        hits = 0
        for attempt in range(2):
            append(log, *run_history(f"extra-{attempt}", total=2, answers=(True, False)))
            hits += _kill_mid_write(server, log, snapshots, attempt)
            server.start()
        assert hits, "no kill landed while a snapshot was being written"
        assert _files(snapshots, ".snapshot"), "no whole snapshot to start from"
        deadline = time.monotonic() + 120
        size = log.stat().st_size
        while int(httpx.get(f"{server.url}/api/health").json()["position"].split(":")[1]) < size:
            assert time.monotonic() < deadline, "the restarted server did not catch up"
            time.sleep(0.05)
        restarted = _what_it_shows(server.url)
        server.stop()
        shutil.rmtree(snapshots)  # the truth: a full replay of the log
        server.start()
        assert _what_it_shows(server.url) == restarted
    finally:
        server.stop()
