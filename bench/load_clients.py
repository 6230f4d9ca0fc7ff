"""SSE clients spread over several processes, so the client side is never what is measured.

Each worker process holds its share of raw-socket clients (``bench.sse_client``), all
connected from the same cursor, and records when every ``id:`` arrives. The driver
appends, notes when, and reads every client's arrivals back at the end: the
monotonic clock is one clock for every process of the machine, so an arrival minus an
append time is the delivery latency.
"""

from __future__ import annotations

import asyncio
import bisect
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bench.sse_client import RawSSEClient

Arrivals = list[tuple[int, float]]  # (offset, monotonic time), in arrival order


def _worker(host: str, port: int, after: str, clients: int, params: str,
            conn: Connection) -> None:
    asyncio.run(_serve(host, port, after, clients, params, conn))


async def _serve(host: str, port: int, after: str, clients: int, params: str,
                 conn: Connection) -> None:
    readers = [RawSSEClient() for _ in range(clients)]
    for start in range(0, clients, 50):
        await asyncio.gather(*(r.connect(f"http://{host}:{port}", after=after + params)
                               for r in readers[start:start + 50]))
    conn.send("connected")
    loop = asyncio.get_running_loop()
    final = await loop.run_in_executor(None, conn.recv)  # the last offset to wait for
    deadline = time.monotonic() + 30
    while any(r.latest < final for r in readers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    conn.send([sorted(r.arrivals.items()) for r in readers])
    conn.send(sum(r.received for r in readers))
    for reader in readers:
        reader.close()


@dataclass
class ClientPool:
    """``clients`` SSE clients in ``processes`` worker processes, from cursor ``after``."""

    host: str
    port: int
    after: str
    clients: int
    processes: int = 4
    params: str = ""  # more query parameters, e.g. "&view=board"

    def __enter__(self) -> ClientPool:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._workers = []
        share = [self.clients // self.processes + (i < self.clients % self.processes)
                 for i in range(self.processes)]
        for count in share:
            if not count:
                continue
            mine, theirs = context.Pipe()
            worker = context.Process(target=_worker, daemon=True, args=(
                self.host, self.port, self.after, count, self.params, theirs))
            worker.start()
            self._pipes.append(mine)
            self._workers.append(worker)
        for pipe in self._pipes:
            if not pipe.poll(120):
                raise TimeoutError("SSE clients did not connect")
            pipe.recv()
        return self

    def arrivals(self, final_offset: int) -> list[Arrivals]:
        """Every client's arrivals, once each has seen ``final_offset`` (or 30 s)."""
        for pipe in self._pipes:
            pipe.send(final_offset)
        found: list[Arrivals] = []
        self.bytes_received = 0  # by every client, response headers included
        for pipe in self._pipes:
            found.extend(pipe.recv())
            self.bytes_received += pipe.recv()
        return found

    def __exit__(self, *exc_info: object) -> None:
        for worker in self._workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()


def latencies_ms(appends: list[tuple[float, int]], arrivals: list[Arrivals]) -> list[float]:
    """For every append ``(monotonic time, offset after it)`` and every client: how long
    until that client saw an id at or past the offset. A client that never did counts
    as 30 s, so a miss is never hidden."""
    out: list[float] = []
    for seen in arrivals:
        offsets = [offset for offset, _ in seen]
        for started, end in appends:
            index = bisect.bisect_left(offsets, end)
            arrived = seen[index][1] if index < len(seen) else started + 30
            out.append((arrived - started) * 1000)
    return out
