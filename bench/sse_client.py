"""A minimal SSE reader on a raw socket, so that hundreds of clients cost the
benchmark little CPU: it only looks for ``id:`` lines and records when they arrive."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

_ID = re.compile(rb"(?:^|\n)id: [0-9a-f]+:([0-9]+)\n")


class RawSSEClient:
    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}  # offset -> monotonic time it arrived
        self.latest = 0
        self.received = 0  # bytes
        self.ended_at: float | None = None  # monotonic time the server closed the stream
        self._task: asyncio.Task | None = None
        self._moved = asyncio.Event()

    async def connect(self, url: str, *, after: str) -> None:
        """Open ``GET /api/events`` on the server at ``url`` (``http://host:port``)."""
        address = urlsplit(url)
        host, port = address.hostname or "127.0.0.1", address.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /api/events?after={after} HTTP/1.1\r\nHost: {host}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        self._writer = writer
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        tail = b""
        while True:
            data = await reader.read(1 << 16)
            if not data:
                self.ended_at = time.monotonic()
                return
            now = time.monotonic()
            self.received += len(data)
            buffer = tail + data
            for match in _ID.finditer(buffer):
                offset = int(match.group(1))
                if offset > self.latest:
                    self.latest = offset
                    self.arrivals[offset] = now
                    self._moved.set()
            tail = buffer[-64:]

    async def wait_for(self, offset: int, timeout_s: float = 10) -> float:
        async with asyncio.timeout(timeout_s):
            while self.latest < offset:
                self._moved.clear()
                await self._moved.wait()
        return min(t for o, t in self.arrivals.items() if o >= offset)

    def close(self) -> None:
        if self._task:
            self._task.cancel()
        self._writer.close()
