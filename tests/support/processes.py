"""``python run.py`` in a process of its own, so that a test can kill it outright, start
two on one data directory, or run one under an OS limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.servers import free_port
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


class ServerProcess:
    """A server on ``data_dir`` (default ``cwd/data``), started in ``cwd`` so that no
    stray ``.env`` is read. Its stderr goes to ``cwd/server-N.log`` (``output``)."""

    def __init__(self, cwd: Path, *, data_dir: Path | None = None,
                 env: dict[str, str] | None = None,
                 preexec_fn: Callable[[], None] | None = None,
                 prefix: tuple[str, ...] = (), ready_timeout_s: float = 60) -> None:
        self.cwd = cwd
        self.data_dir = data_dir or cwd / "data"
        self.env = env or {}
        self.preexec_fn = preexec_fn
        self.prefix = prefix  # a command to run it under, e.g. ``prlimit --nofile=…``
        self.ready_timeout_s = ready_timeout_s  # generous: a busy machine imports slowly
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.stderr_path = cwd / "server.log"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "runs.jsonl"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it to answer (``wait_ready`` does)."""
        port = free_port()
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1",
               "HARNESS_DATA_DIR": str(self.data_dir), "HARNESS_SEMANTIC_MEMORY": "0",
               "PYTHONPATH": str(REPO), **self.env}
        self.stderr_path = self.cwd / f"server-{port}.log"
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen([*self.prefix, sys.executable, str(REPO / "run.py")],
                                            cwd=self.cwd, env=env, stdout=subprocess.DEVNULL,
                                            stderr=stderr, preexec_fn=self.preexec_fn)
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self) -> None:
        wait_until(self._answers, timeout_s=self.ready_timeout_s,
                   message="server answers /api/health")

    @property
    def output(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server died:\n{self.output}")
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code in (200, 503)
        except httpx.TransportError:
            return False

    def health(self) -> dict:
        return self.get("/api/health")

    def get(self, path: str) -> dict:
        """The JSON body of ``GET path`` (an ``/api/...`` route)."""
        return httpx.get(f"{self.url}{path}", timeout=10).json()

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
