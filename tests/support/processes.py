"""``python run.py`` in a process of its own, as a user runs it, so that a test can kill
it outright (SIGKILL at any moment) and start it again on the same port and data
directory, start two on one data directory, or run one under an OS limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
# One client for every request of this module: ``httpx.get`` builds a client, and with it
# an SSL context from certifi's bundle, per call (about 25 ms of CPU), and ``wait_ready``
# and the tests' ``wait_until(... .get(...))`` call it every 10 ms while a server starts
# or works. No keep-alive: a server killed and started again on its port is never asked
# over a connection of the one before it, as with ``httpx.get``.
HTTP = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))


class ServerProcess:
    """A server on ``data_dir`` (default ``cwd/data``), started in ``cwd`` so that no
    stray ``.env`` is read, with none of this process's ``HARNESS_*``, ``PORT`` or
    ``HOST`` settings. It keeps its port across restarts, so that a client's URL stays
    good. The stderr of its N-th start goes to ``cwd/server-N.log`` (``output``)."""

    def __init__(self, cwd: Path, *, data_dir: Path | None = None,
                 env: dict[str, str] | None = None,
                 preexec_fn: Callable[[], None] | None = None,
                 prefix: tuple[str, ...] = (), ready_timeout_s: float = 60) -> None:
        self.cwd = cwd
        cwd.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir or cwd / "data"
        self.env = env or {}
        self.preexec_fn = preexec_fn
        self.prefix = prefix  # a command to run it under, e.g. ``prlimit --nofile=…``
        self.ready_timeout_s = ready_timeout_s  # generous: a busy machine imports slowly
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0  # chosen at the first start
        self.starts = 0
        self.stderr_path = cwd / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def environment(self) -> dict[str, str]:
        """The environment it runs in (for a command-line client to share)."""
        inherited = {key: value for key, value in os.environ.items()
                     if not key.startswith(("HARNESS_", "PORT", "HOST"))}
        return {**inherited, "PORT": str(self.port), "HOST": "127.0.0.1",
                "HARNESS_DATA_DIR": str(self.data_dir),
                # The embedding model costs seconds of CPU per start; nothing here needs it.
                "HARNESS_SEMANTIC_MEMORY": "0", "PYTHONPATH": str(REPO), **self.env}

    @property
    def log_path(self) -> Path:
        return self.data_dir / "runs.jsonl"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it to answer (``wait_ready`` does)."""
        self.port = self.port or free_port()
        self.starts += 1
        self.stderr_path = self.cwd / f"server-{self.starts}.log"
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen([*self.prefix, sys.executable, str(REPO / "run.py")],
                                            cwd=self.cwd, env=self.environment,
                                            stdout=subprocess.DEVNULL, stderr=stderr,
                                            preexec_fn=self.preexec_fn)

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
            return HTTP.get(f"{self.url}/api/health", timeout=1).status_code in (200, 503)
        except httpx.TransportError:
            return False

    def health(self) -> dict:
        return self.get("/api/health")

    def get(self, path: str) -> dict:
        """The JSON body of ``GET path`` (an ``/api/...`` route)."""
        return HTTP.get(f"{self.url}{path}", timeout=10).json()

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


@contextmanager
def serving(cwd: Path, *, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """A ``ServerProcess`` in ``cwd``, started, and stopped when the block ends (a test
    module's one server)."""
    process = ServerProcess(cwd, env=env)
    process.start()
    try:
        yield process
    finally:
        process.stop()
