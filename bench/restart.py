"""Restart to serving on large logs, and the memory a loaded server holds.

For each size: start ``python run.py`` over a data directory holding the cached log
and time it until ``/api/health`` answers with a position at the log's end (target
≤ 1 s), then read its RSS. The first start of a data directory replays the whole log;
a second start (after a clean stop) shows what start-up costs when it can skip that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import ROOT, free_port, rss_mb
from bench.logs import cached_log, data_dir_with


def serve_until_caught_up(data_dir: Path, log_size: int, *, timeout_s: float = 600
                          ) -> tuple[float, float, subprocess.Popen]:
    """Start a server; seconds until it serves the whole log, its RSS then, the process."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HARNESS_DATA_DIR": str(data_dir),
           "HARNESS_SEMANTIC_MEMORY": "0"}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py")], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/health"
    while True:
        if time.monotonic() - started > timeout_s or process.poll() is not None:
            process.kill()
            raise RuntimeError("the server did not start")
        try:
            position = httpx.get(url, timeout=5).json()["position"]
            if int(position.rsplit(":", 1)[1]) >= log_size:
                return time.monotonic() - started, rss_mb(process.pid), process
        except (httpx.TransportError, ValueError, KeyError):
            pass
        time.sleep(0.02)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=120)


def measure(events: int) -> dict[str, float]:
    log = cached_log(events)
    size = log.stat().st_size
    with tempfile.TemporaryDirectory() as folder:
        data_dir = data_dir_with(log, Path(folder), writable=False)
        cold_s, cold_rss, process = serve_until_caught_up(data_dir, size)
        stop(process)
        warm_s, warm_rss, process = serve_until_caught_up(data_dir, size)
        stop(process)
    print(f"restart to serving {events:,} events ({size / 1e9:.2f} GB): first start "
          f"{cold_s:.2f} s (full replay), RSS {cold_rss:.0f} MB "
          f"({cold_rss / (events / 1e6):.0f} MB per million events); restart "
          f"{warm_s:.2f} s -> {1 / warm_s:.2f}x the target (<= 1 s), RSS {warm_rss:.0f} MB")
    return {"events": events, "cold_s": cold_s, "warm_s": warm_s, "cold_rss_mb": cold_rss,
            "warm_rss_mb": warm_rss}


def main(sizes: tuple[int, ...] = (1_000_000, 10_000_000)) -> None:
    for events in sizes:
        measure(events)


if __name__ == "__main__":
    main()
