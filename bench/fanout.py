"""Fan-out: one append delivered to many concurrent SSE clients.

Every client is a raw socket in this process; the server runs in its own. For each
append we time how long each client takes to see it, and read the server's RSS.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import (
    append_delta,
    percentile,
    rss_mb,
    server_process,
    start_streaming_item,
)
from bench.sse_client import RawSSEClient
from events.filelog import FileLog


async def measure(clients: int, appends: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        log = FileLog(data_dir / "runs.jsonl")
        start_streaming_item(log, "fan")
        with server_process(data_dir) as (url, process):
            idle_rss = rss_mb(process.pid)
            position = httpx.get(f"{url}/api/data").headers["x-harness-position"]
            readers = [RawSSEClient() for _ in range(clients)]
            for start in range(0, clients, 50):
                await asyncio.gather(*(r.connect(url, after=position)
                                       for r in readers[start:start + 50]))
            connected = time.monotonic() + 10
            while httpx.get(f"{url}/api/health").json()["subscribers"]["sse"] < clients:
                if time.monotonic() > connected:
                    raise TimeoutError("clients did not all connect")
                await asyncio.sleep(0.05)
            loaded_rss = rss_mb(process.pid)
            latencies: list[float] = []
            for number in range(appends):
                await asyncio.sleep(random.uniform(0.05, 0.1))
                started = time.monotonic()
                end = append_delta(log, "fan", number)
                arrivals = await asyncio.gather(*(r.wait_for(end) for r in readers))
                latencies.extend((t - started) * 1000 for t in arrivals)
            peak_rss = rss_mb(process.pid)
            for reader in readers:
                reader.close()
    figures = {
        "clients": clients, "appends": appends,
        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
        "idle_rss_mb": idle_rss, "rss_mb": peak_rss,
        "kb_per_client": (loaded_rss - idle_rss) * 1024 / clients,
    }
    print(f"fan-out to {clients} SSE clients, {appends} appends: delivery "
          f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms (target p99 <= 100 ms)")
    print(f"  server RSS {idle_rss:.0f} MB idle -> {peak_rss:.0f} MB with {clients} clients "
          f"({figures['kb_per_client']:.0f} KB per client)")
    return figures


def main(clients: int = 500, appends: int = 40) -> dict[str, float]:
    return asyncio.run(measure(clients, appends))


if __name__ == "__main__":
    main()
