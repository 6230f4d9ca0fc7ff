"""Read throughput on a 1M-event log, with wrk (Debian package ``wrk``), 50 connections.

``GET /api/runs/active`` and ``GET /api/runs?limit=50`` (target ≥ 5,000 requests/s
each), idle and while 100 events/s are appended; and the board with a matching
``If-None-Match``. wrk runs in its own process, the server in another.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import TS
from bench.logs import cached_log, data_dir_with
from bench.patient import patient_server
from events import schema as ev
from events.writer import append_events

TARGET = 5_000
PATHS = ("/api/runs/active", "/api/runs?limit=50")


def wrk(url: str, *, seconds: int = 5, headers: tuple[str, ...] = ()) -> float:
    command = ["wrk", "-t2", "-c50", f"-d{seconds}s", *(f"-H{h}" for h in headers), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    return float(found.group(1)) if found else float("nan")


def _append_steadily(log: Path, per_second: int, stop: threading.Event) -> None:
    number = 0
    while not stop.wait(1 / per_second):
        append_events(log, [ev.ItemDelta(run_id="steady", sequence=1, text=f"t{number} ",
                                         ts=TS)])
        number += 1


def main(events: int = 1_000_000, seconds: int = 5) -> dict[str, float]:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): skipped")
        return {}
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        data_dir = data_dir_with(cached_log(events), Path(folder), writable=True)
        log = data_dir / "runs.jsonl"
        append_events(log, [
            ev.RunCreated(run_id="steady", provider_name="simulated", model_name="m",
                          dataset_name="d", total=1, ts=TS),
            ev.ItemStarted(run_id="steady", sequence=1, prompt_text="Q", ts=TS)])
        with patient_server(data_dir, steady=True) as (url, _):
            for path in PATHS:
                figures[path] = wrk(url + path, seconds=seconds)
            etag = httpx.get(url + PATHS[0]).headers["etag"]
            figures[f"{PATHS[0]} (If-None-Match matching)"] = wrk(url + PATHS[0], seconds=seconds,
                                 headers=(f"If-None-Match: {etag}",))
            stop = threading.Event()
            appender = threading.Thread(target=_append_steadily, args=(log, 100, stop))
            appender.start()
            try:
                time.sleep(0.5)
                for path in PATHS:
                    figures[f"{path} (100 events/s appended)"] = wrk(url + path, seconds=seconds)
            finally:
                stop.set()
                appender.join()
    for name, rate in figures.items():
        print(f"GET {name} on a {events:,}-event log: {rate:,.0f} requests/s "
              f"-> {rate / TARGET:.2f}x the target (>= {TARGET:,}/s)")
    return figures


if __name__ == "__main__":
    main()
