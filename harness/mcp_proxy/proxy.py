"""The MCP tool proxy: list the configured servers and their tools, call a tool.

Arguments are checked against the tool's input schema before anything is sent (422),
a tool that reports an error becomes a 502 carrying its message, and every call that
reached a server is recorded as a ``run_log`` line of the run it names.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from events.log import EventLog, open_log
from events.schema import LogLevel, RunLog
from events.writer import now_timestamp
from harness.errors import NotFound, Unavailable
from harness.mcp_proxy.config import MCP_CONFIG_FILE, McpConfig, load_config
from harness.mcp_proxy.connection import McpConnection, ServerDown
from harness.mcp_proxy.shapes import (
    ServerListing,
    ServerSummary,
    ToolCall,
    ToolFailed,
    ToolListing,
    ToolOutcome,
)
from harness.settings import Settings

if TYPE_CHECKING:
    from harness.mcp_proxy.session import LiveSession

RecordLog = Callable[[RunLog], Awaitable[object]]

MAX_LOGGED_MESSAGE_CHARS = 500


class McpProxy:
    """The MCP servers of ``settings.data_dir / mcp.json``.

    ``record_log`` receives one ``RunLog`` per call that names a run; by default it is
    appended to the runs log. ``open()`` reads the config and owns a task group for the
    sessions (opened on first use); ``aclose()`` closes them, from the same task.
    """

    def __init__(self, settings: Settings, *, record_log: RecordLog | None = None) -> None:
        self.settings = settings
        self._record_log = record_log or self._append_to_runs_log
        self._log: EventLog | None = None  # the runs log, opened on first use by default
        self._config = McpConfig({}, {})
        self._connections: dict[str, McpConnection] = {}
        self._stack = AsyncExitStack()

    async def open(self) -> None:
        self._config = load_config(self.settings.data_dir / MCP_CONFIG_FILE)
        task_group = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(task_group.cancel_scope.cancel)
        self._connections = {name: McpConnection(name, spec)
                             for name, spec in self._config.servers.items()}
        for connection in self._connections.values():
            connection.start(task_group)

    async def aclose(self) -> None:
        for connection in self._connections.values():
            connection.close()
        await self._stack.aclose()

    async def __aenter__(self) -> McpProxy:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def connection(self, name: str) -> McpConnection:
        try:
            return self._connections[name]
        except KeyError:
            raise NotFound("mcp server", name) from None

    def servers(self) -> ServerListing:
        summaries = [ServerSummary(c.name, c.transport, c.state, c.restarts, c.last_error)
                     for c in self._connections.values()]
        summaries += [ServerSummary(name, "invalid", "misconfigured", last_error=error)
                      for name, error in self._config.errors.items() if name != MCP_CONFIG_FILE]
        return ServerListing(sorted(summaries, key=lambda s: s.name),
                             self._config.errors.get(MCP_CONFIG_FILE))

    async def tools(self, name: str) -> ToolListing:
        connection = self.connection(name)
        with anyio.move_on_after(connection.spec.timeout_s):
            live = await _session(connection)
            return ToolListing(name, await live.list_tools())
        raise _timed_out(connection)

    async def call(self, name: str, tool: str, call: ToolCall) -> ToolOutcome:
        """Call ``tool`` of server ``name``; 404 unknown, 422 bad arguments, 502 failed."""
        connection = self.connection(name)
        sent_at: float | None = None
        with anyio.move_on_after(connection.spec.timeout_s):
            live = await _session(connection)
            await live.check_call(tool, call.arguments)
            sent_at = time.perf_counter()
            try:
                outcome = await live.call(tool, call.arguments)
            except ToolFailed as failure:
                await self._record(call, name, tool, f"error: {failure.reason}")
                raise
            except Unavailable as error:
                await self._record(call, name, tool, f"error: {error.message}")
                raise
            elapsed_ms = round((time.perf_counter() - sent_at) * 1000)
            await self._record(call, name, tool, f"ok in {elapsed_ms} ms")
            return outcome
        timeout = _timed_out(connection)
        if sent_at is not None:
            await self._record(call, name, tool, f"error: {timeout.message}")
        raise timeout

    async def _record(self, call: ToolCall, server: str, tool: str, outcome: str) -> None:
        if call.run_id is None:
            return
        message = f"mcp {server}.{tool} → {outcome}"[:MAX_LOGGED_MESSAGE_CHARS]
        level: LogLevel = "error" if outcome.startswith("error") else "info"
        with anyio.CancelScope(shield=True):  # also when recording why a call was cut off
            await self._record_log(RunLog(run_id=call.run_id, level=level, message=message,
                                          ts=now_timestamp()))

    async def _append_to_runs_log(self, event: RunLog) -> None:
        if self._log is None:
            self._log = open_log(self.settings.log, self.settings.data_dir)
            self._stack.push_async_callback(self._log.aclose)
        await self._log.append([event])


async def _session(connection: McpConnection) -> LiveSession:
    try:
        return await connection.session()
    except ServerDown as error:
        raise Unavailable(str(error), details={"server": connection.name}) from None


def _timed_out(connection: McpConnection) -> Unavailable:
    return Unavailable(f"MCP server {connection.name!r} did not answer within "
                       f"{connection.spec.timeout_s} s", details={"server": connection.name})

