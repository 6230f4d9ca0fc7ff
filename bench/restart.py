"""Restart to serving on large logs, and the memory a loaded server holds.

For each size: start ``python run.py`` over a data directory holding the cached log
and time it until ``/api/health`` answers with a position at the log's end (target
≤ 1 s), then read its RSS. The first start of a data directory replays the whole log;
a second start (after a clean stop) shows what start-up costs when it can skip that.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import rss_mb
from bench.logs import cached_log, data_dir_with
from bench.patient import start_serving, stop, wait_for_a_snapshot
from events.filelog import FileLog
from harness.cli import fold
from harness.snapshots import FOLDER, SnapshotStore


def serve_until_caught_up(data_dir: Path, log_size: int
                          ) -> tuple[float, float, subprocess.Popen[bytes]]:
    """Start a server; seconds until it serves the whole log, its RSS then, the process."""
    _, process, seconds = start_serving(data_dir)
    return seconds, rss_mb(process.pid), process


def measure(events: int) -> dict[str, float]:
    log = cached_log(events)
    size = log.stat().st_size
    with tempfile.TemporaryDirectory() as folder:
        data_dir = data_dir_with(log, Path(folder), writable=False)
        cold_s, cold_rss, process = serve_until_caught_up(data_dir, size)
        wait_for_a_snapshot(data_dir)
        stop(process)
        warm_s, warm_rss, process = serve_until_caught_up(data_dir, size)
        stop(process)
        full_fold_s, snapshot_fold_s = _folds(data_dir)
    print(f"restart to serving {events:,} events ({size / 1e9:.2f} GB): first start "
          f"{cold_s:.2f} s (full replay), RSS {cold_rss:.0f} MB "
          f"({cold_rss / (events / 1e6):.0f} MB per million events); restart "
          f"{warm_s:.2f} s -> {1 / warm_s:.2f}x the target (<= 1 s), RSS {warm_rss:.0f} MB")
    print(f"  the fold alone, in this process: whole log {full_fold_s:.2f} s, newest snapshot "
          f"+ tail {snapshot_fold_s:.2f} s ({full_fold_s / snapshot_fold_s:.0f}x less)")
    return {"events": events, "cold_s": cold_s, "warm_s": warm_s, "cold_rss_mb": cold_rss,
            "warm_rss_mb": warm_rss, "full_fold_s": full_fold_s,
            "snapshot_fold_s": snapshot_fold_s}


def _folds(data_dir: Path) -> tuple[float, float]:
    """Seconds to the read models of the whole log without and with the snapshot the
    server left (no process start-up, no imports: what start-up itself adds)."""
    log = FileLog(data_dir / "runs.jsonl")
    started = time.perf_counter()
    fold(log)
    full = time.perf_counter() - started
    started = time.perf_counter()
    fold(log, snapshots=SnapshotStore(data_dir / FOLDER))
    return full, time.perf_counter() - started


def empty_start() -> float:
    """The floor: how long an empty server takes to start (imports, bind) right now. The
    first start, which fills the bytecode cache as an install would, is not counted."""
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(2):
            seconds, _, process = serve_until_caught_up(Path(folder), 0)
            stop(process)
    print(f"an empty server starts in {seconds:.2f} s (the floor under any restart)")
    return seconds


def main(sizes: tuple[int, ...] = (1_000_000, 10_000_000)) -> None:
    empty_start()
    for events in sizes:
        measure(events)


if __name__ == "__main__":
    main()
