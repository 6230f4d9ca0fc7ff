"""Item routes of finished runs whose details live in the log alone (issue #12 point 2).

A server over the 1M-event log is left until its first snapshot has shed every finished
run's details; then, for finished runs it has not read yet, the first item route asks
the log (``/items``: the run's ~300 events read back by position and folded), and a
second route of the same run (``/table``, a response not cached per position) finds the
run in the read-back cache. Requests one at a time, from this process.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from bench.common import percentile, rss_mb
from bench.logs import cached_log, data_dir_with
from bench.patient import patient_server

FIRST_ROUTE = "/api/runs/{}/items?limit=50"
CACHED_ROUTE = "/api/runs/{}/table?sort=latency&desc=true&limit=50"


def _timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed * 1000


def main(events: int = 1_000_000, runs: int = 200) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = data_dir_with(cached_log(events), Path(folder), writable=False)
        with patient_server(data_dir, steady=True) as (url, process), \
                httpx.Client(base_url=url, timeout=30) as client:
            archive = client.get("/api/runs", params={"limit": runs}).json()["runs"]
            ids = [summary["run"]["id"] for summary in archive][::-1]  # the oldest first
            first: list[float] = []
            cached: list[float] = []
            for run_id in ids:
                first.append(_timed(client, FIRST_ROUTE.format(run_id)))
                cached.append(_timed(client, CACHED_ROUTE.format(run_id)))
            # The cache holds a few runs: the first ones are read from the log again.
            again = [_timed(client, CACHED_ROUTE.format(run_id) + "&offset=1")
                     for run_id in ids[:50]]
            rss = rss_mb(process.pid)
    figures = {"first_p50_ms": percentile(first, 0.5), "first_p99_ms": percentile(first, 0.99),
               "cached_p50_ms": percentile(cached, 0.5), "cached_p99_ms": percentile(cached, 0.99),
               "again_p50_ms": percentile(again, 0.5), "rss_mb": rss}
    print(f"item routes of {len(ids)} finished runs (from a snapshot) on a {events:,}-event "
          f"log: first read (from the log) {figures['first_p50_ms']:.1f} ms p50, "
          f"{figures['first_p99_ms']:.1f} ms p99; the same run again (another route) "
          f"{figures['cached_p50_ms']:.1f} ms p50, {figures['cached_p99_ms']:.1f} ms p99; "
          f"after {len(ids)} other runs (read again) {figures['again_p50_ms']:.1f} ms p50; "
          f"server RSS {rss:.0f} MB after its full replay")
    return figures


if __name__ == "__main__":
    main()
