"""``python run.py`` in a process of its own, so that a test can kill it outright."""

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
    """A server over ``cwd/data`` (started in ``cwd``, so that no stray ``.env`` is
    read), with ``env`` added to its environment (``HARNESS_LOG`` for a replica)."""

    def __init__(self, cwd: Path, *, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.data_dir = cwd / "data"
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, *, timeout_s: float = 30) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1",
               "HARNESS_DATA_DIR": str(self.data_dir), "HARNESS_SEMANTIC_MEMORY": "0",
               "PYTHONPATH": str(REPO), **self.env}
        self.process = subprocess.Popen([sys.executable, str(REPO / "run.py")], cwd=self.cwd,
                                        env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}"
        wait_until(self._healthy, timeout_s=timeout_s, message="server answers /api/health")

    def _healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, "server died"
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def get(self, path: str, **params: object) -> dict:
        return httpx.get(f"{self.url}{path}", params=params, timeout=10).json()  # type: ignore[arg-type]

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
