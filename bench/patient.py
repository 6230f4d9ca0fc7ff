"""A server process for benches on a busy machine: given as long as it needs to start.

``bench.common.server_process`` gives a server 30 s; importing the app alone took 20 s
here at load average 17. These benches wait until the server serves the whole log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import ROOT, free_port


def start_serving(data_dir: Path, *, env: dict[str, str] | None = None,
                  timeout_s: float = 900) -> tuple[str, subprocess.Popen[bytes], float]:
    """Start ``python run.py``; its URL, the process and the seconds until it served the
    whole log that was there when it started."""
    log = data_dir / "runs.jsonl"
    size = log.stat().st_size if log.exists() else 0
    port = free_port()
    environment = {**os.environ, "PORT": str(port), "HARNESS_DATA_DIR": str(data_dir),
                   "HARNESS_SEMANTIC_MEMORY": "0", **(env or {})}
    # A deployed server starts from compiled bytecode (pip writes it at install); this
    # machine's environment forbids writing it, which made every start compile the
    # project again (~0.2 s). The cache goes under bench/out, not into the tree.
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment.setdefault("PYTHONPYCACHEPREFIX", str(ROOT / "bench" / "out" / "pycache"))
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py")], cwd=ROOT,
                               env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        if time.monotonic() - started > timeout_s or process.poll() is not None:
            process.kill()
            raise RuntimeError("the server did not start")
        try:
            position = httpx.get(f"{url}/api/health", timeout=5).json()["position"]
            if int(position.rsplit(":", 1)[1]) >= size:
                return url, process, time.monotonic() - started
        except (httpx.TransportError, ValueError, KeyError):
            pass
        time.sleep(0.02)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_a_snapshot(data_dir: Path, *, timeout_s: float = 900) -> None:
    """Until the server has written its first snapshot. After a full replay it packs
    every finished run for it, in a worker thread that competes for the interpreter:
    benches of the steady state wait for that to be over."""
    deadline = time.monotonic() + timeout_s
    while not any((data_dir / "snapshots").glob("*.snapshot")):
        if time.monotonic() > deadline:
            raise TimeoutError("no snapshot was written")
        time.sleep(0.1)


@contextmanager
def patient_server(data_dir: Path, *, env: dict[str, str] | None = None,
                   steady: bool = False) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server over ``data_dir``; with ``steady``, once its first snapshot is written."""
    url, process, _ = start_serving(data_dir, env=env)
    try:
        if steady:
            wait_for_a_snapshot(data_dir)
        yield url, process
    finally:
        stop(process)
