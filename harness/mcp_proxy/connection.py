"""One long-lived MCP client session per configured server, restarted when it dies.

The SDK's transports and sessions are async context managers that must be entered and
exited by the same task, so each server gets an owner task that opens the session,
publishes it, and holds it open until the connection is lost or the proxy closes.
Requests from any task then use the published session. The owner notices a lost
connection by itself: the transport's read stream is relayed through a small pump
that flags end-of-stream (a stdio server that exited, an HTTP stream that broke), and
the owner opens a new session at once. Failing to connect backs off up to 30 s.

The SDK itself (``harness.mcp_proxy.session``) is imported by the first owner task, in
a worker thread: it takes some 0.4 s, which a server that never reaches an MCP server
should not pay at start-up, nor its event loop at first use.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Literal

import anyio
import anyio.abc
import anyio.to_thread

from harness.mcp_proxy.config import ServerSpec, StdioServerSpec
from harness.mcp_proxy.shapes import ConnectionState

if TYPE_CHECKING:
    from harness.mcp_proxy.session import LiveSession

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0

SessionOpener = Callable[[str, ServerSpec, anyio.Event],
                         AbstractAsyncContextManager["LiveSession"]]


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

    async def _own_session(self) -> None:
        backoff_s = FIRST_BACKOFF_S
        while True:
            self.state = "connecting"
            lost = anyio.Event()
            try:
                open_session = await anyio.to_thread.run_sync(_sdk_session_opener)
                async with open_session(self.name, self.spec, lost) as live:
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

    def close(self) -> None:
        """Mark closed; the owner task itself is cancelled with the proxy's task group."""
        self.state = "closed"
        self.last_error = "the proxy is closed"
        self._session = None
        self._published.set()



def _sdk_session_opener() -> SessionOpener:
    from harness.mcp_proxy.session import open_session

    return open_session
