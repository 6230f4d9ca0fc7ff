"""Append → SSE client latency, against the seed design's one-second polling tail.

The server runs in its own process; the bench appends ``item_delta`` events with the
library writer, at random intervals, and times each one until an SSE client sees the
``id`` of the batch that holds it. The seed design (tail the file with a 1 s sleep,
parse each new line) runs in this process over the same appends, for the ratio.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import append_delta, percentile, server_process, start_streaming_item
from bench.sse_client import RawSSEClient
from events.filelog import FileLog


class SeedTail:
    """The previous design: sleep 1 s, read what was appended, ``json.loads`` each line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size
        self.seen: dict[int, float] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(1)
            with self.path.open("rb") as log:
                log.seek(self.offset)
                data = log.read()
            end = data.rfind(b"\n") + 1
            for line in data[:end].splitlines():
                json.loads(line)
            self.offset += end
            self.seen[self.offset] = time.monotonic()

    def delivered(self, offset: int) -> float | None:
        return min((t for o, t in self.seen.items() if o >= offset), default=None)


async def measure(appends: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        log = FileLog(data_dir / "runs.jsonl")
        start_streaming_item(log, "lat")
        with server_process(data_dir) as (url, _process):
            position = httpx.get(f"{url}/api/data").headers["x-harness-position"]
            client = RawSSEClient()
            await client.connect(url, after=position)
            seed = SeedTail(log.path)
            seed_task = asyncio.create_task(seed.run())
            latencies, written = [], []
            for number in range(appends):
                await asyncio.sleep(random.uniform(0.005, 0.03))
                started = time.monotonic()
                end = append_delta(log, "lat", number)
                arrived = await client.wait_for(end)
                latencies.append((arrived - started) * 1000)
                written.append((started, end))
            await asyncio.sleep(1.2)  # let the seed's last poll happen
            seed_task.cancel()
            client.close()
        seed_latencies = [(delivered - started) * 1000 for started, end in written
                          if (delivered := seed.delivered(end)) is not None]
    figures = {
        "appends": appends,
        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
        "seed_p50_ms": percentile(seed_latencies, 0.5),
        "seed_p99_ms": percentile(seed_latencies, 0.99),
    }
    print(f"append -> SSE client latency over {appends} appends: "
          f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms (target p99 <= 25 ms)")
    print(f"  seed design (1 s polling tail): p50 {figures['seed_p50_ms']:.0f} ms, "
          f"p99 {figures['seed_p99_ms']:.0f} ms -> "
          f"{figures['seed_p50_ms'] / figures['p50_ms']:.0f}x faster at p50")
    return figures


def main(appends: int = 300) -> dict[str, float]:
    return asyncio.run(measure(appends))


if __name__ == "__main__":
    main()
