"""SSE clients spread over several processes, so the client side is never what is measured.

Each worker process holds its share of clients, all connected from the same cursor, and
records when every ``id:`` arrives. A worker is one ``epoll`` loop over non-blocking
sockets, with no task or stream object per client: a read costs a ``recv`` and a
search for the last id, a fraction of what an asyncio stream reader costs, so that
a worker with hundreds of clients reads a batch well before the next one comes (its
CPU per batch is printed by the benches that use it). The driver appends, notes when,
and reads every client's arrivals back at the end: the monotonic clock is one clock
for every process of the machine, so an arrival minus an append time is the delivery
latency.
"""

from __future__ import annotations

import bisect
import multiprocessing
import select
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

Arrivals = list[tuple[int, float]]  # (offset, monotonic time), in arrival order
READ_BYTES = 1 << 16
WAIT_S = 30  # for every client to see the last append, after the driver names it


@dataclass(eq=False)
class _Stream:
    sock: socket.socket
    latest: int = 0
    received: int = 0  # bytes, response headers included
    tail: bytes = b""
    ended: bool = False

    def __post_init__(self) -> None:
        self.arrivals: dict[int, float] = {}

    def read(self, now: float) -> int:
        """Take what the socket has; the highest offset seen so far."""
        try:
            data = self.sock.recv(READ_BYTES)
        except BlockingIOError:
            return self.latest
        if not data:
            self.ended = True
            return self.latest
        self.received += len(data)
        buffer = self.tail + data
        # Only the last whole id line of a read matters: ids only grow, and every id in
        # one read arrived at the same moment. (A regular expression over every id cost
        # three times as much CPU per read.)
        start = buffer.rfind(b"\nid: ")
        end = buffer.find(b"\n", start + 1) if start >= 0 else -1
        if start >= 0 and end < 0:  # still being received: the one before it is whole
            start = buffer.rfind(b"\nid: ", 0, start)
            end = buffer.find(b"\n", start + 1) if start >= 0 else -1
        if end >= 0:
            offset = int(buffer[buffer.rfind(b":", start, end) + 1:end])
            if offset > self.latest:
                self.latest = offset
                self.arrivals[offset] = now
        self.tail = buffer[-64:]
        return self.latest


def _worker(host: str, port: int, after: str, clients: int, params: str,
            conn: Connection) -> None:
    request = (f"GET /api/events?after={after}{params} HTTP/1.1\r\nHost: {host}\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    streams: dict[int, _Stream] = {}
    poller = select.epoll()
    for _ in range(clients):
        sock = socket.create_connection((host, port))
        sock.sendall(request)
        sock.setblocking(False)
        streams[sock.fileno()] = _Stream(sock)
        poller.register(sock.fileno(), select.EPOLLIN)
    conn.send("connected")
    cpu_connected = time.process_time()
    final: int | None = None
    deadline = float("inf")
    behind = clients  # streams that have not seen ``final`` yet
    while behind and time.monotonic() < deadline:
        for fd, _ in poller.poll(0.05):
            stream = streams[fd]
            if stream.ended:
                poller.unregister(fd)
                continue
            before = stream.latest
            latest = stream.read(time.monotonic())
            if final is not None and before < final <= latest:
                behind -= 1
        if final is None and conn.poll():
            final = conn.recv()
            deadline = time.monotonic() + WAIT_S
            behind = sum(stream.latest < final for stream in streams.values())
    conn.send([sorted(stream.arrivals.items()) for stream in streams.values()])
    conn.send((sum(stream.received for stream in streams.values()),
               time.process_time() - cpu_connected))
    for stream in streams.values():
        stream.sock.close()


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
        self.cpu_s = 0.0  # the workers' CPU time since they connected: what reading cost
        for pipe in self._pipes:
            found.extend(pipe.recv())
            received, cpu_s = pipe.recv()
            self.bytes_received += received
            self.cpu_s += cpu_s
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
