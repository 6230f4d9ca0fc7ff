"""A real ``python run.py`` in its own process, so that a test can kill it outright,
limit its resources, or read what it logged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    """``run.py`` with its data in ``cwd / "data"``; ``prefix`` runs it under another
    command (``prlimit``), ``env`` adds settings; its output goes to ``cwd / "server.log"``."""

    def __init__(self, cwd: Path, *, env: dict[str, str] | None = None,
                 prefix: tuple[str, ...] = ()) -> None:
        self.cwd = cwd
        self.data_dir = cwd / "data"
        self.env = env or {}
        self.prefix = prefix
        self.output = cwd / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def log_path(self) -> Path:
        return self.data_dir / "runs.jsonl"

    def start(self) -> None:
        port = free_port()
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1",
               "HARNESS_DATA_DIR": str(self.data_dir), "PYTHONPATH": str(REPO), **self.env}
        with self.output.open("ab") as output:
            self.process = subprocess.Popen([*self.prefix, sys.executable, str(REPO / "run.py")],
                                            cwd=self.cwd, env=env, stdout=output,
                                            stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        try:  # generous: a shared machine can be slow to start a Python process
            wait_until(self._healthy, timeout_s=60, message="server answers /api/health")
        except BaseException:
            self.stop()
            raise

    def _healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, (
            f"server died: {self.logged()[-2000:]}")
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def logged(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def health(self) -> dict:
        return httpx.get(f"{self.url}/api/health", timeout=5).json()

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
