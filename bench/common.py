"""What the benchmarks share: a real server process, generated logs, percentiles."""

from __future__ import annotations

import os
import platform
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from events import schema as ev
from events.filelog import FileLog

ROOT = Path(__file__).resolve().parent.parent
TS = datetime(2026, 3, 6, 19, 43, 11, 123_000, tzinfo=UTC)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} vCPU {cpu}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, "
            f"{datetime.now(UTC).strftime('%Y-%m-%d')}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def server_process(data_dir: Path, *, env: dict[str, str] | None = None,
                   args: tuple[str, ...] = (), max_open_files: int | None = None,
                   start_timeout_s: float = 30
                   ) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python run.py [args]`` in its own process (its own core), as a user would run it;
    yields its URL once it answers ``/api/health``. ``max_open_files`` lowers the
    process's limit on file descriptors (``ulimit -n``)."""
    port = free_port()
    environment = {**os.environ, "PORT": str(port), "HARNESS_DATA_DIR": str(data_dir),
                   **(env or {})}
    def limit_files() -> None:
        if max_open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_open_files, max_open_files))

    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT,
                               env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, preexec_fn=limit_files)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.05)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=15)


def start_streaming_item(log: FileLog, run_id: str) -> None:
    """A run with one running item, for benchmarks that stream deltas into it."""
    log.append_blocking([ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                                      dataset_name="d", total=1, ts=TS),
                        ev.ItemStarted(run_id=run_id, sequence=1, prompt_text="Q", ts=TS)])


def append_delta(log: FileLog, run_id: str, number: int) -> int:
    """One streamed chunk for the item; the log offset after it."""
    return log.append_blocking([ev.ItemDelta(run_id=run_id, sequence=1,
                                             text=f"chunk {number} ", ts=TS)]).offset


def item_events(run_id: str, sequence: int, *, deltas: int = 3) -> list[ev.Event]:
    text = "Let me think about this step by step. "
    return [
        ev.ItemStarted(run_id=run_id, sequence=sequence, ts=TS, choices=("1", "2", "3", "4"),
                       prompt_text=f"Question {sequence}: what is 17 * {sequence} + 3?"),
        *(ev.ItemDelta(run_id=run_id, sequence=sequence, text=text, ts=TS) for _ in range(deltas)),
        ev.ItemAnswered(run_id=run_id, sequence=sequence, response_text=text * deltas + "Answer: B",
                        answer="B", latency_ms=412.5, ts=TS,
                        usage=ev.Usage(prompt_tokens=57, completion_tokens=31)),
        ev.ItemJudged(run_id=run_id, sequence=sequence, correct=sequence % 3 != 0, expected="B",
                      judge="exact-choice", ts=TS),
    ]


def generate_log(path: Path, *, events: int, items_per_run: int = 100) -> int:
    """A realistic log of about ``events`` events: whole runs of streamed, judged items."""
    written = 0
    log = FileLog(path)
    run = 0
    while written < events:
        run_id = f"run-{run:06d}"
        history: list[ev.Event] = [
            ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="gpt-4.1",
                          dataset_name="arithmetic", total=items_per_run, ts=TS),
            ev.RunStarted(run_id=run_id, ts=TS)]
        for sequence in range(1, items_per_run + 1):
            history.extend(item_events(run_id, sequence))
        history.append(ev.RunFinished(run_id=run_id, status="completed", ts=TS))
        log.append_blocking(history)
        written += len(history)
        run += 1
    return written
