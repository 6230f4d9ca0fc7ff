"""``python run.py --reload``: the reloaded server is the one the flags asked for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.events import append, run_history
from tests.support.ports import free_port
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_reload_serves_the_data_dir_given_by_flag(tmp_path: Path) -> None:
    data_dir = tmp_path / "elsewhere"
    data_dir.mkdir()
    append(data_dir / "runs.jsonl", *run_history("flagged"))
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("HARNESS_")}
    # Its own session: the reloader's worker is a process of its own, stopped with it.
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--reload", "--port", str(port),
         "--data-dir", str(data_dir)],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO), "HARNESS_SEMANTIC_MEMORY": "0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(url), timeout_s=30, message="the reloading server answers")
        runs = httpx.get(f"{url}/api/runs").json()["runs"]
        assert [row["run"]["id"] for row in runs] == ["flagged"]
        assert not (tmp_path / "data").exists()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=15)
