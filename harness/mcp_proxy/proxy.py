"""The MCP tool proxy: list the configured servers and their tools, call a tool.

Arguments are checked against the tool's input schema before anything is sent (422),
a tool that reports an error becomes a 502 carrying its message, and every call that
reached a server is recorded as a ``run_log`` line of the run it names.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any, Literal, TypeVar

import anyio
import anyio.abc
import mcp_types
import msgspec
from jsonschema import SchemaError
from jsonschema.validators import validator_for
from mcp import MCPError

from events.log import EventLog, open_log
from events.schema import LogLevel, RunLog
from events.writer import now_timestamp
from harness.errors import Invalid, NotFound, Unavailable
from harness.mcp_proxy.config import MCP_CONFIG_FILE, McpConfig, load_config
from harness.mcp_proxy.connection import ConnectionState, LiveSession, McpConnection, ServerDown
from harness.settings import Settings

T = TypeVar("T")
RecordLog = Callable[[RunLog], Awaitable[object]]

MAX_LOGGED_MESSAGE_CHARS = 500


class ServerSummary(msgspec.Struct, rename="camel", frozen=True):
    name: str
    transport: Literal["stdio", "http", "invalid"]
    state: ConnectionState | Literal["misconfigured"]
    restarts: int = 0
    last_error: str | None = None


class ServerListing(msgspec.Struct, rename="camel", frozen=True):
    servers: list[ServerSummary]
    config_error: str | None = None


class ToolSummary(msgspec.Struct, rename="camel", frozen=True, omit_defaults=True):
    name: str
    input_schema: dict[str, Any]
    title: str | None = None
    description: str | None = None


class ToolListing(msgspec.Struct, rename="camel", frozen=True):
    server: str
    tools: list[ToolSummary]


class ToolCall(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """The body of ``POST /api/mcp/servers/{name}/tools/{tool}``."""

    arguments: dict[str, Any] = {}
    run_id: str | None = None


class ToolOutcome(msgspec.Struct, rename="camel", frozen=True, omit_defaults=True):
    """A successful call: the tool's content blocks as MCP sent them."""

    server: str
    tool: str
    content: list[dict[str, Any]]
    structured_content: dict[str, Any] | None = None


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
            tools = await _guarded(connection, live, connection.refresh_tools(live))
            return ToolListing(name, [_summary(tool) for tool in tools.values()])
        raise _timed_out(connection)

    async def call(self, name: str, tool: str, call: ToolCall) -> ToolOutcome:
        """Call ``tool`` of server ``name``; 404 unknown, 422 bad arguments, 502 failed."""
        connection = self.connection(name)
        sent_at: float | None = None
        with anyio.move_on_after(connection.spec.timeout_s):
            live = await _session(connection)
            spec = live.tools.get(tool)
            if spec is None:  # the server may have added it since it was listed
                spec = (await _guarded(connection, live, connection.refresh_tools(live))).get(tool)
            if spec is None:
                raise NotFound("mcp tool", f"{name}.{tool}")
            _check_arguments(spec, call.arguments)
            sent_at = time.perf_counter()
            try:
                result = await _guarded(connection, live,
                                        live.client.call_tool(tool, call.arguments))
            except Unavailable as error:
                await self._record(call, name, tool, f"error: {error.message}")
                raise
            if result.is_error:
                message = _text(result) or "the tool reported an error"
                await self._record(call, name, tool, f"error: {message}")
                raise Unavailable(f"tool {name}.{tool} failed: {message}",
                                  details={"server": name, "tool": tool, "message": message})
            elapsed_ms = round((time.perf_counter() - sent_at) * 1000)
            await self._record(call, name, tool, f"ok in {elapsed_ms} ms")
            return ToolOutcome(name, tool, [_block(block) for block in result.content],
                               result.structured_content)
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


async def _guarded(connection: McpConnection, live: LiveSession, request: Awaitable[T]) -> T:
    """Await a request on ``live``: a dead connection is flagged for restart; every
    failure of the server or the link becomes a 502."""
    try:
        return await request
    except MCPError as error:
        if error.code == mcp_types.CONNECTION_CLOSED:
            live.lost.set()
        raise Unavailable(f"MCP server {connection.name!r}: {error}",
                          details={"server": connection.name}) from None
    except (OSError, anyio.ClosedResourceError, anyio.BrokenResourceError,
            anyio.EndOfStream) as error:
        live.lost.set()
        raise Unavailable(f"MCP server {connection.name!r} connection failed: {error!r}",
                          details={"server": connection.name}) from None


def _timed_out(connection: McpConnection) -> Unavailable:
    return Unavailable(f"MCP server {connection.name!r} did not answer within "
                       f"{connection.spec.timeout_s} s", details={"server": connection.name})


def _check_arguments(tool: mcp_types.Tool, arguments: dict[str, Any]) -> None:
    """422 listing every way ``arguments`` break the tool's input schema. A schema that
    is itself invalid is left for the server to apply."""
    schema = tool.input_schema
    validator_class = validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except SchemaError:
        return
    errors = sorted(validator_class(schema).iter_errors(arguments), key=lambda e: list(e.path))
    if errors:
        raise Invalid(f"arguments do not match the input schema of tool {tool.name!r}",
                      details={"errors": [{"path": "/" + "/".join(map(str, e.path)),
                                           "message": e.message} for e in errors]})


def _summary(tool: mcp_types.Tool) -> ToolSummary:
    return ToolSummary(tool.name, tool.input_schema, tool.title, tool.description)


def _block(block: Any) -> dict[str, Any]:
    return block.model_dump(mode="json", by_alias=True, exclude_none=True)


def _text(result: mcp_types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content
                     if isinstance(block, mcp_types.TextContent))
