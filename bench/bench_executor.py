"""Executor throughput: items per second end to end with the ``simulated`` provider at
zero latency, from ``POST /api/runs`` until the board (``GET /api/runs/{id}``) shows the
run completed — every item started, streamed, answered and judged through the log.

The server runs in its own process, as a user would run it, over a generated user
dataset of ``items`` questions. Semantic memory is switched off there: loading its
embedding model in the background takes a core for seconds and would halve the figure
without saying anything about the executor.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import anyio
import httpx

from bench.common import server_process
from events.filelog import FileLog
from harness.live import replay


def write_dataset(path: Path, items: int) -> None:
    lines = (json.dumps({"question": f"What is {n} + {n}?",
                         "choices": [str(2 * n - 1), str(2 * n), str(2 * n + 1), str(3 * n + 7)],
                         "answer": "B"}) for n in range(1, items + 1))
    path.write_text("\n".join(lines) + "\n")


def measure(items: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        (data_dir / "datasets").mkdir()
        write_dataset(data_dir / "datasets" / "bench.jsonl", items)
        with (server_process(data_dir) as (url, _process),
              httpx.Client(base_url=url) as client):
            body = {"providerName": "simulated", "modelName": "bench", "datasetName": "bench",
                    "concurrency": concurrency,
                    "config": {"seed": 1, "latencyMs": 0, "faultRate": 0, "chunks": 8}}
            started = time.monotonic()
            created = client.post("/api/runs", json=body)
            created.raise_for_status()
            run_id = created.json()["run"]["id"]
            while True:
                detail = client.get(f"/api/runs/{run_id}").json()
                if detail["run"]["status"] != "running" and detail["run"]["status"] != "pending":
                    break
                time.sleep(0.01)
            elapsed = time.monotonic() - started
        lines = anyio.run(replay, FileLog(data_dir / "runs.jsonl").reader()).events_applied
    if detail["progress"]["completed"] != items:
        raise RuntimeError(f"run ended {detail['run']['status']} with {detail['progress']}")
    figures = {"items": items, "concurrency": concurrency, "seconds": elapsed,
               "items_per_s": items / elapsed, "lines_per_item": lines / items}
    print(f"executor, simulated provider at zero latency: {items} items at concurrency "
          f"{concurrency} in {elapsed:.2f} s -> {figures['items_per_s']:.0f} items/s end to end "
          f"(log -> board), {figures['lines_per_item']:.1f} log lines per item")
    return figures


def main(items: int = 5000, concurrency: int = 16) -> dict[str, float]:
    return measure(items, concurrency)


if __name__ == "__main__":
    main()
