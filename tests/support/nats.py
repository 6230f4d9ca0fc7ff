"""A real ``nats-server`` with JetStream on a free loopback port, for tests and benches.

Debian's ``nats-server`` (``apt-get install nats-server``) is what CI installs; where the
binary is absent the tests that need it are skipped with that reason, never faked.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port

NATS_SERVER = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None)
MISSING_REASON = "nats-server is not installed (apt-get install nats-server)"


@dataclass
class NatsServer:
    """One ``nats-server -js`` process; ``store_dir`` survives ``restart``."""

    store_dir: Path
    port: int = field(default_factory=free_port)
    config: str | None = None  # a configuration file's text (users, permissions)
    jetstream: bool = True
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def log_url(self, stream: str = "HARNESS") -> str:
        """The ``HARNESS_LOG`` value of ``stream`` on this server."""
        return f"{self.url}/{stream}"

    def start(self, *, timeout_s: float = 15) -> None:
        if NATS_SERVER is None:
            raise RuntimeError(MISSING_REASON)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        command = [NATS_SERVER, "-sd", str(self.store_dir), "-a", "127.0.0.1",
                   "-p", str(self.port)]
        if self.jetstream:
            command.append("-js")
        if self.config is not None:
            config_file = self.store_dir / "server.conf"
            config_file.write_text(self.config)
            command += ["-c", str(config_file)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not listen on {self.port} in {timeout_s} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port over the same store."""
        self.stop()
        self.start()

    def _answers(self) -> bool:
        # The server sends its INFO line to every new connection once it is ready.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                return sock.recv(4).startswith(b"INFO")
        except OSError:
            return False
