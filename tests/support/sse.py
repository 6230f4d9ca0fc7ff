"""A raw SSE reader over loopback (httpx-sse), and the client-side fold of what it receives."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import orjson
from httpx_sse import EventSource, ServerSentEvent


@dataclass
class SSEMessage:
    event: str
    data: Any
    id: str | None


def _message(event: ServerSentEvent) -> SSEMessage:
    # httpx-sse keeps the last id seen (as EventSource does); no id yet is "".
    return SSEMessage(event.event or "message", orjson.loads(event.data) if event.data else None,
                      event.id or None)


def sse_messages(response: httpx.Response) -> Iterator[SSEMessage]:
    """The messages of a synchronous httpx streaming response, pings skipped."""
    for event in EventSource(response).iter_sse():
        if event.event != "ping":
            yield _message(event)


class SSEStream:
    """The raw stream, message by message, for tests of the protocol itself (pings, ids,
    resets); tools use ``harness.client``'s typed, self-resuming ``subscribe``."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._events = EventSource(response).aiter_sse()
        self.last_id: str | None = None

    async def next(self, *, timeout_s: float = 10, pings: bool = False) -> SSEMessage:
        """The next message (pings skipped unless asked for), or fail after ``timeout_s``."""
        with anyio.fail_after(timeout_s):
            async for event in self._events:
                message = _message(event)
                self.last_id = message.id
                if message.event != "ping" or pings:
                    return message
        raise EOFError("stream ended")


@asynccontextmanager
async def sse_stream(url: str, *, after: str | None = None, last_event_id: str | None = None,
                     params: dict | None = None) -> AsyncIterator[SSEStream]:
    query = dict(params or {})
    if after is not None:
        query["after"] = after
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
            client.stream("GET", f"{url}/api/events", params=query, headers=headers) as response:
        assert response.status_code == 200
        yield SSEStream(response)


class RawEventStream:
    """``GET /api/events`` on a plain blocking socket, its HTTP/1.1 chunked body decoded
    here, strictly: a test chooses the socket's receive buffer and when to read, and a
    chunk framed wrongly fails the test rather than being papered over by a library."""

    def __init__(self, url: str, *, after: str, receive_buffer: int | None = None) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.sock = socket.socket()
        if receive_buffer is not None:  # set before connecting, or the window is larger
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        self.sock.sendall(f"GET /api/events?after={after} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())
        self._raw = b""   # received, not yet de-chunked
        self._body = b""  # de-chunked, not yet split into frames
        self.messages: list[SSEMessage] = []  # pings left out
        self.last_id: str | None = None
        self.ended = False  # the server sent the last chunk
        while b"\r\n\r\n" not in self._raw:
            self._raw += self._recv()
        head, _, self._raw = self._raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert b"\r\ntransfer-encoding: chunked" in head.lower(), head
        # The body may have come with the head, even its end: reading on would wait for
        # bytes that never come.
        self._decode()

    def read_until(self, position: str) -> list[SSEMessage]:
        """Read until the stream has delivered ``position`` (or an id past it, which a
        test of order must catch); every message so far."""
        offset = int(position.split(":")[1])
        while self.last_id is None or int(self.last_id.split(":")[1]) < offset:
            if self.ended:
                raise EOFError(f"the stream ended at {self.last_id}, before {position}")
            self._raw += self._recv()
            self._decode()
        return self.messages

    def read_to_end(self) -> None:
        """Read until the server ends the response (its last, empty chunk)."""
        while not self.ended:
            self._raw += self._recv()
            self._decode()

    def close(self) -> None:
        self.sock.close()

    def _recv(self) -> bytes:
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("the server closed the connection")
        return data

    def _decode(self) -> None:
        while not self.ended and b"\r\n" in self._raw:
            size_line, _, rest = self._raw.partition(b"\r\n")
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            assert rest[size:size + 2] == b"\r\n", rest[size:size + 16]
            self._body += rest[:size]
            self._raw = rest[size + 2:]
            self.ended = size == 0
        *frames, self._body = self._body.split(b"\n\n")
        for frame in frames:
            fields = dict(line.split(b": ", 1) for line in frame.split(b"\n")
                          if line and not line.startswith(b":"))
            if b"id" in fields:
                self.last_id = fields[b"id"].decode()
            if fields.get(b"event", b"ping") != b"ping":
                data = fields[b"data"]
                self.messages.append(SSEMessage(fields[b"event"].decode(), orjson.loads(data),
                                                self.last_id if b"id" in fields else None))


@dataclass
class ClientBoard:
    """What a dashboard holds after folding the stream's messages."""

    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue: list | None = None
    resets: int = 0

    def apply(self, message: SSEMessage) -> None:
        data = message.data
        if message.event == "reset":
            self.runs.clear()
            self.resets += 1
        elif message.event == "run_status":
            run = self.runs.setdefault(data["run"]["id"], {"items": {}})
            run["run"], run["lifecycle"] = data["run"], data["lifecycle"]
        elif message.event == "run_progress":
            run = self.runs.setdefault(data["runId"], {"items": {}})
            run["progress"], run["currentSequence"] = data["progress"], data["currentSequence"]
        elif message.event == "run_item":
            run = self.runs.setdefault(data["runId"], {"items": {}})
            run["items"][data["item"]["sequence"]] = data["item"]
        elif message.event == "queue":
            self.queue = data["queue"]


async def fold_until(stream: SSEStream, board: ClientBoard, position: str, *,
                     timeout_s: float = 10) -> None:
    """Fold messages into ``board`` until the stream has delivered ``position``."""
    with anyio.fail_after(timeout_s):
        while stream.last_id != position:
            board.apply(await stream.next(timeout_s=timeout_s))


async def server_board(client: httpx.AsyncClient, url: str) -> tuple[dict[str, Any], str]:
    """The same shape as ``ClientBoard.runs``, read over REST, and its position."""
    response = await client.get(f"{url}/api/runs", params={"limit": 200})
    runs: dict[str, Any] = {}
    for summary in response.json()["runs"]:
        run_id = summary["run"]["id"]
        detail = (await client.get(f"{url}/api/runs/{run_id}")).json()
        items = (await client.get(f"{url}/api/runs/{run_id}/items",
                                  params={"limit": 1000})).json()["groups"]
        runs[run_id] = {
            "run": detail["run"], "lifecycle": detail["lifecycle"],
            "progress": detail["progress"],
            "currentSequence": (detail["currentItem"] or {}).get("sequence"),
            "items": {item["sequence"]: item for group in items.values() for item in group
                      if item["attempts"] > 0},
        }
    return runs, response.headers["x-harness-position"]
