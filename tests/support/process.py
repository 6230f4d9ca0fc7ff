"""A real server process (``python run.py``), as a user runs it: it can be killed with
SIGKILL at any moment and started again on the same port and data directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith(("HARNESS_", "PORT", "HOST"))}
        # The embedding model costs seconds of CPU per start; nothing here needs it.
        self.env.update({"HARNESS_SEMANTIC_MEMORY": "0", **(env or {})})
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "runs.jsonl"

    def start(self, *, timeout_s: float = 60) -> None:
        """Start the server and wait until it answers ``/api/health``."""
        stderr = (self.data_dir.parent / f"server-{self.port}-{self.starts}.log").open("wb")
        self.starts += 1
        self.process = subprocess.Popen(
            [sys.executable, "run.py", "--port", str(self.port), "--data-dir",
             str(self.data_dir)], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
            stderr=stderr)
        stderr.close()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server did not answer within {timeout_s} s")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
