"""One long-lived MCP client session per configured server, restarted when it dies.

The SDK's transports and sessions are async context managers that must be entered and
exited by the same task, so each server gets an owner task that opens the session,
publishes it, and holds it open until the connection is lost or the proxy closes.
Requests from any task then use the published session. The owner notices a lost
connection by itself: the transport's read stream is relayed through a small pump
that flags end-of-stream (a stdio server that exited, an HTTP stream that broke), and
the owner opens a new session at once. Failing to connect backs off up to 30 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import anyio.abc
import mcp_types
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client import Transport
from mcp.client.streamable_http import streamable_http_client

from harness.mcp_proxy.config import ServerSpec, StdioServerSpec

ConnectionState = Literal["idle", "connecting", "connected", "failed", "closed"]

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
MAX_TOOL_PAGES = 50
"""Bound on ``tools/list`` pages, so that a paginator that never ends cannot hang us."""


@dataclass(eq=False)
class LiveSession:
    """A connected session and the tools it listed; ``lost`` is set once it is dead."""

    client: Client
    tools: dict[str, mcp_types.Tool]
    lost: anyio.Event = field(default_factory=anyio.Event)


class ServerDown(Exception):
    """The server has no live session and the last attempt to open one failed."""


class McpConnection:
    """The session with one server, opened on first use and kept open."""

    def __init__(self, name: str, spec: ServerSpec) -> None:
        self.name = name
        self.spec = spec
        self.state: ConnectionState = "idle"
        self.restarts = 0
        self.last_error: str | None = None
        self._session: LiveSession | None = None
        self._published = anyio.Event()
        self._task_group: anyio.abc.TaskGroup | None = None

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if isinstance(self.spec, StdioServerSpec) else "http"

    def start(self, task_group: anyio.abc.TaskGroup) -> None:
        """Let ``session()`` start the owner task in ``task_group`` when first needed."""
        self._task_group = task_group

    async def session(self) -> LiveSession:
        """The live session, waiting while one is being opened. Callers bound the wait.

        Raises ``ServerDown`` if the latest attempt to connect failed.
        """
        if self.state == "idle":
            if self._task_group is None:
                raise ServerDown(f"MCP server {self.name!r} is not started")
            self.state = "connecting"
            self._task_group.start_soon(self._own_session, name=f"mcp session {self.name}")
        while True:
            live = self._session
            if live is not None and not live.lost.is_set():
                return live
            if self.state in ("failed", "closed"):
                raise ServerDown(f"MCP server {self.name!r} is unavailable: {self.last_error}")
            await self._published.wait()

    async def refresh_tools(self, live: LiveSession) -> dict[str, mcp_types.Tool]:
        live.tools = await _list_tools(live.client)
        return live.tools

    async def _own_session(self) -> None:
        backoff_s = FIRST_BACKOFF_S
        while True:
            self.state = "connecting"
            lost = anyio.Event()
            try:
                async with Client(_watched(self._open_transport(), lost)) as client:
                    live = LiveSession(client, await _list_tools(client), lost)
                    self._publish(live, "connected")
                    backoff_s = FIRST_BACKOFF_S
                    await lost.wait()
                self.last_error = "the connection was lost"
            except Exception as error:  # any failure to connect is reported, then retried
                lost.set()
                self.last_error = f"{type(error).__name__}: {error}"
                self._publish(None, "failed")
                await anyio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
            self.restarts += 1

    def _publish(self, live: LiveSession | None, state: ConnectionState) -> None:
        self._session, self.state = live, state
        waiting, self._published = self._published, anyio.Event()
        waiting.set()

    def _open_transport(self) -> Transport:
        spec = self.spec
        if isinstance(spec, StdioServerSpec):
            return stdio_client(StdioServerParameters(command=spec.command, args=spec.args,
                                                      env=spec.env or None, cwd=spec.cwd))
        return streamable_http_client(spec.url)

    def close(self) -> None:
        """Mark closed; the owner task itself is cancelled with the proxy's task group."""
        self.state = "closed"
        self.last_error = "the proxy is closed"
        self._session = None
        self._published.set()


@asynccontextmanager
async def _watched(transport: Any, lost: anyio.Event) -> AsyncIterator[Any]:
    """``transport`` with its read stream relayed, setting ``lost`` at end-of-stream."""
    async with transport as (read_stream, write_stream):
        relay_send, relay_receive = anyio.create_memory_object_stream[Any](0)

        async def pump() -> None:
            try:
                async with relay_send:
                    async for message in read_stream:
                        await relay_send.send(message)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass
            finally:
                lost.set()

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(pump)
            try:
                yield relay_receive, write_stream
            finally:
                task_group.cancel_scope.cancel()


async def _list_tools(client: Client) -> dict[str, mcp_types.Tool]:
    tools: dict[str, mcp_types.Tool] = {}
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools.update((tool.name, tool) for tool in page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools
