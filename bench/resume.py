"""Resuming from the start of a long log with clients that do not read.

Eight SSE clients ask ``/api/events?after=<generation>:0`` of a ~50 MB log and then
read nothing. The server must build what they missed in bounded pieces, as they take
it, so its memory stays flat and ``/api/health`` keeps answering at once.
"""

from __future__ import annotations

import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import generate_log, percentile, rss_mb, server_process

LOG_MB = 50
EVENTS_PER_MB = 5_900  # generate_log's events average ~170 bytes


@dataclass(frozen=True)
class ResumeFigures:
    log_mb: float
    clients: int
    rss_before_mb: float
    rss_max_mb: float
    rss_after_mb: float
    health_p50_ms: float
    health_max_ms: float
    health_answers: int


def stalled_sse_client(url: str, path: str) -> socket.socket:
    """A connection that asks for ``path`` and then reads nothing (a tiny receive buffer,
    so the server soon has to hold whatever it still wants to send)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    return sock


def measure(data_dir: Path, *, clients: int = 8, log_mb: int = LOG_MB,
            watch_s: float = 8.0) -> ResumeFigures:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "runs.jsonl"
    generate_log(log, events=log_mb * EVENTS_PER_MB)
    with (server_process(data_dir, env={"HARNESS_SEMANTIC_MEMORY": "0"}) as (url, process),
          httpx.Client(timeout=10) as http):
        generation = httpx.get(f"{url}/api/health").json()["position"].split(":")[0]
        rss_before = rss_mb(process.pid)
        sockets = [stalled_sse_client(url, f"/api/events?after={generation}:0")
                   for _ in range(clients)]
        latencies: list[float] = []
        rss_max = rss_before
        try:
            deadline = time.monotonic() + watch_s
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = http.get(f"{url}/api/health")
                latencies.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
                rss_max = max(rss_max, rss_mb(process.pid))
                time.sleep(0.1)
        finally:
            for sock in sockets:
                sock.close()
        time.sleep(1)  # let the server notice they are gone
        rss_after = rss_mb(process.pid)
    return ResumeFigures(log.stat().st_size / 1e6, clients, rss_before, rss_max, rss_after,
                         percentile(latencies, 0.5), max(latencies), len(latencies))


def main(*, clients: int = 8, log_mb: int = LOG_MB) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        figures = measure(Path(scratch) / "data", clients=clients, log_mb=log_mb)
    print(f"{figures.clients} non-reading SSE clients resuming from the start of a "
          f"{figures.log_mb:.0f} MB log")
    print(f"  server RSS {figures.rss_before_mb:.0f} MB before, max {figures.rss_max_mb:.0f} MB "
          f"with them (+{figures.rss_max_mb - figures.rss_before_mb:.0f} MB), "
          f"{figures.rss_after_mb:.0f} MB after they left")
    print(f"  /api/health p50 {figures.health_p50_ms:.1f} ms, max {figures.health_max_ms:.1f} ms "
          f"over {figures.health_answers} requests (target: under 100 ms)")


if __name__ == "__main__":
    main()
