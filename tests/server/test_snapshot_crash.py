"""A server killed (SIGKILL) while it writes a snapshot starts again showing exactly what
a full replay of the log shows: an older snapshot plus the tail, or the whole log,
never a torn snapshot."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx

from events import schema as ev
from tests.server.test_crash_resume import ServerProcess
from tests.support.events import TS, append, run_history

SETTINGS = "HARNESS_SNAPSHOT_EVENTS=1\nHARNESS_SNAPSHOT_S=1\nHARNESS_SEMANTIC_MEMORY=0\n"


def _what_it_shows(url: str) -> dict[str, object]:
    archive = httpx.get(f"{url}/api/runs", params={"limit": 200}, timeout=10).json()
    shown: dict[str, object] = {"archive": archive,
                                "totals": httpx.get(f"{url}/api/data", timeout=10).json()[
                                    "totals"]}
    for run_id in ("run-0", "run-7", "extra-0", "extra-2"):
        response = httpx.get(f"{url}/api/runs/{run_id}/items", timeout=10)
        shown[run_id] = response.json() if response.status_code == 200 else response.status_code
    return shown


def _kill_mid_write(server: ServerProcess, snapshots: Path, *, timeout_s: float = 20) -> bool:
    """SIGKILL the server as soon as a snapshot is being written (a temporary file is
    there); at the deadline, kill it anyway. Whether the kill hit a write."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if snapshots.is_dir() and any(p.suffix == ".tmp" for p in snapshots.iterdir()):
            server.kill()
            return True
    server.kill()
    return False


def test_a_server_killed_while_writing_a_snapshot_restarts_correct(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(SETTINGS)
    server = ServerProcess(tmp_path)
    server.data_dir.mkdir()
    log = server.data_dir / "runs.jsonl"
    for number in range(400):  # a snapshot big enough to take a while to write
        append(log, *run_history(f"run-{number}", total=5, answers=(True,) * 5,
                                 prompt="Question {} " + "x" * 300))
    snapshots = server.data_dir / "snapshots"
    try:
        for attempt in range(3):
            server.start()
            append(log, *run_history(f"extra-{attempt}", total=2, answers=(True, False)),
                   ev.RunLog(run_id="run-7", level="info", message=f"kill {attempt}", ts=TS))
            _kill_mid_write(server, snapshots)
        server.start()
        deadline = time.monotonic() + 20
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
