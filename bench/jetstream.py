"""The log on NATS JetStream, beside the file: latency, ingest, cold start, fan-out.

Everything runs on this machine: one ``nats-server -js`` (Debian's), the servers in
processes of their own (``python run.py`` with ``HARNESS_LOG=nats://…``), shippers as
``python -m harness ship`` processes, and the clients in this process.

- append → SSE client: an event published with ``JetStreamLog.append`` until an SSE
  client of a replica sees the id of the batch holding it (target p99 ≤ 50 ms);
- ingest: three shippers forwarding a generated log each, all at once, until the stream
  holds every event (target ≥ 30,000 events/s);
- cold start: from ``python run.py`` to a server answering with the whole log folded, on
  a file and on a stream of the same events (target: the stream within 2× of the file);
- fan-out: SSE clients spread over two replicas, each append timed to every client.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import ROOT, TS, generate_log, percentile, rss_mb, server_process
from bench.sse_client import RawSSEClient
from events import schema as ev
from events.jetstream import JetStreamLog
from tests.support.nats import NATS_SERVER, NatsServer

STREAM = "BENCH"


@contextmanager
def nats_server(folder: Path) -> Iterator[NatsServer]:
    server = NatsServer(folder / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def delta(number: int, run_id: str) -> ev.ItemDelta:
    return ev.ItemDelta(run_id=run_id, sequence=1, text=f"chunk {number} ", ts=TS)


async def start_item(log: JetStreamLog, run_id: str) -> None:
    await log.append([ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                                    dataset_name="d", total=1, ts=TS),
                      ev.ItemStarted(run_id=run_id, sequence=1, prompt_text="Q", ts=TS)])


async def latency(nats: NatsServer, folder: Path, appends: int) -> dict[str, float]:
    log = JetStreamLog(nats.log_url(STREAM))
    await start_item(log, "lat")
    env = {"HARNESS_LOG": nats.log_url(STREAM)}
    with server_process(folder / "latency", env=env) as (url, _process):
        position = httpx.get(f"{url}/api/data").headers["x-harness-position"]
        client = RawSSEClient()
        await client.connect(url, after=position)
        latencies = []
        for number in range(appends):
            await asyncio.sleep(random.uniform(0.005, 0.03))
            started = time.monotonic()
            end = (await log.append([delta(number, "lat")])).offset
            latencies.append((await client.wait_for(end) - started) * 1000)
        client.close()
    await log.aclose()
    figures = {"p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
               "max_ms": max(latencies)}
    print(f"append -> SSE client through JetStream, {appends} appends: "
          f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms (target p99 <= 50 ms)")
    return figures


def ingest(nats: NatsServer, folder: Path, events_each: int) -> dict[str, float]:
    files = []
    for number in range(3):
        path = folder / f"worker-{number}" / "runs.jsonl"
        path.parent.mkdir(parents=True)
        generate_log(path, events=events_each)
        files.append(path)
    total = sum(sum(1 for line in path.open("rb") if line.strip()) for path in files)
    started = time.perf_counter()
    shippers = [subprocess.Popen([sys.executable, "-m", "harness", "ship", str(path), "--to",
                                  nats.log_url("INGEST"), "--once"], cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for path in files]
    codes = [shipper.wait(timeout=600) for shipper in shippers]
    elapsed = time.perf_counter() - started
    stored = asyncio.run(_stream_messages(nats, "INGEST"))
    rate = stored / elapsed
    print(f"ingest from 3 shippers: {stored:,} of {total:,} events in {elapsed:.1f} s = "
          f"{rate:,.0f} events/s (target >= 30,000/s){'' if codes == [0, 0, 0] else ' FAILED'}")
    return {"events": stored, "seconds": elapsed, "events_per_s": rate}


async def _stream_messages(nats: NatsServer, stream: str) -> int:
    log = JetStreamLog(nats.log_url(stream))
    try:
        return (await log.history()).last_seq
    finally:
        await log.aclose()


def cold_start(nats: NatsServer, folder: Path, events: int) -> dict[str, float]:
    """A first start (a full replay), then a second start on the same data directory,
    from the read-model snapshot the first one wrote at its clean shutdown."""
    data_dir = folder / "file"
    data_dir.mkdir(parents=True)
    count = generate_log(data_dir / "runs.jsonl", events=events)
    file_s, file_read = _start(data_dir, {})
    subprocess.run([sys.executable, "-m", "harness", "ship", str(data_dir / "runs.jsonl"),
                    "--to", nats.log_url("COLD"), "--once"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stream_env = {"HARNESS_LOG": nats.log_url("COLD")}
    stream_s, stream_read = _start(folder / "stream", stream_env)
    file_snapshot_s, _ = _start(data_dir, {})
    stream_snapshot_s, _ = _start(folder / "stream", stream_env)
    ratio = stream_s / file_s
    print(f"cold start on {count:,} events: file {file_s:.1f} s ({file_read:,} read), "
          f"JetStream {stream_s:.1f} s ({stream_read:,} read) = {ratio:.1f}x the file "
          f"(target <= 2x); from the snapshot of a clean shutdown: file "
          f"{file_snapshot_s:.1f} s, JetStream {stream_snapshot_s:.1f} s")
    return {"file_s": file_s, "stream_s": stream_s, "ratio": ratio,
            "file_snapshot_s": file_snapshot_s, "stream_snapshot_s": stream_snapshot_s}


def _start(data_dir: Path, env: dict[str, str]) -> tuple[float, int]:
    """Seconds from ``python run.py`` to a server answering with its log folded, and how
    many events it read."""
    started = time.perf_counter()
    with server_process(data_dir, env=env, start_timeout_s=600) as (url, _process):
        elapsed = time.perf_counter() - started
        read: int = httpx.get(f"{url}/api/health").json()["eventsRead"]
    return elapsed, read


async def fanout(nats: NatsServer, folder: Path, clients: int, appends: int
                 ) -> dict[str, float]:
    log = JetStreamLog(nats.log_url("FAN"))
    await start_item(log, "fan")
    # Each replica caps connections at 1,000 unless told otherwise: room for its half of
    # the clients and the health checks.
    env = {"HARNESS_LOG": nats.log_url("FAN"), "HARNESS_MAX_CONNECTIONS": str(clients // 2 + 100)}
    with server_process(folder / "a", env=env) as (first, first_process), \
            server_process(folder / "b", env=env) as (second, second_process):
        readers = [RawSSEClient() for _ in range(clients)]
        after = str(await log.current())
        for start in range(0, clients, 50):
            await asyncio.gather(*(reader.connect(first if index % 2 else second, after=after)
                                   for index, reader in enumerate(readers[start:start + 50],
                                                                  start)))
        for url in (first, second):  # a server taking a thousand streams at once is slow
            deadline = time.monotonic() + 120
            while _sse_subscribers(url) < clients // 2:
                if time.monotonic() > deadline:
                    raise TimeoutError("clients did not all connect")
                await asyncio.sleep(0.05)
        latencies: list[float] = []
        for number in range(appends):
            await asyncio.sleep(random.uniform(0.05, 0.1))
            started = time.monotonic()
            end = (await log.append([delta(number, "fan")])).offset
            arrivals = await asyncio.gather(*(reader.wait_for(end, timeout_s=30)
                                              for reader in readers))
            latencies.extend((arrived - started) * 1000 for arrived in arrivals)
        rss = [rss_mb(first_process.pid), rss_mb(second_process.pid)]
        for reader in readers:
            reader.close()
    await log.aclose()
    figures = {"p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
               "rss_a_mb": rss[0], "rss_b_mb": rss[1]}
    print(f"fan-out to {clients} SSE clients over 2 replicas, {appends} appends: delivery "
          f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms; replica RSS "
          f"{rss[0]:.0f} MB and {rss[1]:.0f} MB")
    return figures


def _sse_subscribers(url: str) -> int:
    """How many SSE clients the server at ``url`` holds; 0 while it does not answer (a
    server taking a thousand connections at once may reset the health check's)."""
    try:
        return int(httpx.get(f"{url}/api/health", timeout=60).json()["subscribers"]["sse"])
    except httpx.TransportError:
        return 0


def main(appends: int = 300, ingest_each: int = 100_000, cold_events: int = 1_000_000,
         clients: int = 2_000, fan_appends: int = 20) -> dict[str, dict[str, float]]:
    if NATS_SERVER is None:
        print("jetstream: skipped, nats-server is not installed (apt-get install nats-server)")
        return {}
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with nats_server(folder) as nats:
            figures["latency"] = asyncio.run(latency(nats, folder, appends))
            figures["ingest"] = ingest(nats, folder / "ingest", ingest_each)
            figures["cold_start"] = cold_start(nats, folder / "cold", cold_events)
            figures["fanout"] = asyncio.run(fanout(nats, folder / "fan", clients, fan_appends))
    return figures


if __name__ == "__main__":
    main()
