"""A real SSE client over loopback, and the client-side fold of what it receives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import orjson


@dataclass
class SSEMessage:
    event: str
    data: Any
    id: str | None


class SSEParser:
    """Lines of an event stream in, whole messages out (comments skipped)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._event, self._data, self._id = "message", [], None

    def feed(self, line: str) -> SSEMessage | None:
        if line == "":
            if not self._data and self._event == "message":
                return None
            text = "\n".join(self._data)
            message = SSEMessage(self._event, orjson.loads(text) if text else None, self._id)
            self._reset()
            return message
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


def sse_messages(response: httpx.Response) -> Iterator[SSEMessage]:
    """The messages of a synchronous httpx streaming response, pings skipped."""
    parser = SSEParser()
    for line in response.iter_lines():
        message = parser.feed(line)
        if message is not None and message.event != "ping":
            yield message


class SSEStream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self._parser = SSEParser()
        self.last_id: str | None = None

    async def next(self, *, timeout_s: float = 10, pings: bool = False) -> SSEMessage:
        """The next message (pings skipped unless asked for), or fail after ``timeout_s``."""
        with anyio.fail_after(timeout_s):
            while True:
                message = await self._read_one()
                if message.event != "ping" or pings:
                    return message

    async def _read_one(self) -> SSEMessage:
        async for line in self._lines:
            message = self._parser.feed(line)
            if message is not None:
                if message.id is not None:
                    self.last_id = message.id
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
