"""A live MCP client session and what the proxy asks of it: everything that touches the
MCP SDK (and ``jsonschema``).

``harness.mcp_proxy.connection`` imports this module when a server is first used: the
SDK takes some 0.4 s to import, half of a server's start-up, and most servers never
reach an MCP server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import mcp_types
from jsonschema import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from mcp import Client, MCPError, StdioServerParameters, stdio_client
from mcp.client import Transport
from mcp.client.streamable_http import streamable_http_client
from referencing.exceptions import Unresolvable  # jsonschema's own reference errors

from harness.errors import Invalid, NotFound, Unavailable
from harness.mcp_proxy.config import ServerSpec, StdioServerSpec
from harness.mcp_proxy.shapes import ToolFailed, ToolOutcome, ToolSummary

T = TypeVar("T")

MAX_TOOL_PAGES = 50
"""Bound on ``tools/list`` pages, so that a paginator that never ends cannot hang us."""


@asynccontextmanager
async def open_session(server: str, spec: ServerSpec, lost: anyio.Event
                       ) -> AsyncIterator[LiveSession]:
    """A session with ``server`` and its tools listed; ``lost`` is set when it dies."""
    async with Client(_watched(_transport(spec), lost)) as client:
        yield LiveSession(server, client, await _list_tools(client), lost)


@dataclass(eq=False)
class LiveSession:
    """A connected session and the tools it listed; ``lost`` is set once it is dead.

    Every failure of the server or the link becomes ``Unavailable`` (a 502).
    """

    server: str
    client: Client
    tools: dict[str, mcp_types.Tool]
    lost: anyio.Event = field(default_factory=anyio.Event)
    # Each listed tool's input schema, checked: None where it cannot be applied here.
    _validators: dict[str, Validator | None] = field(default_factory=dict)

    async def list_tools(self) -> list[ToolSummary]:
        """The server's tools as it lists them now."""
        self.tools = await self._guarded(_list_tools(self.client))
        self._validators.clear()
        return [ToolSummary(tool.name, tool.input_schema, tool.title, tool.description)
                for tool in self.tools.values()]

    async def check_call(self, tool: str, arguments: dict[str, Any]) -> None:
        """404 for a tool the server does not have, 422 listing every way ``arguments``
        break its input schema. A schema that is itself invalid is left to the server."""
        spec = self.tools.get(tool)
        if spec is None:  # the server may have added it since it was listed
            await self.list_tools()
            spec = self.tools.get(tool)
        if spec is None:
            raise NotFound("mcp tool", f"{self.server}.{tool}")
        if spec.name not in self._validators:  # checking a schema costs more than using it
            self._validators[spec.name] = _validator(spec.input_schema)
        validator = self._validators[spec.name]
        if validator is None:
            return
        try:
            errors = sorted(validator.iter_errors(arguments), key=lambda e: list(e.path))
        except (RecursionError, Unresolvable):
            return  # see _validator
        if errors:
            raise Invalid(f"arguments do not match the input schema of tool {tool!r}",
                          details={"errors": [{"path": "/" + "/".join(map(str, e.path)),
                                               "message": e.message} for e in errors]})

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call ``tool``; ``ToolFailed`` if the tool reports an error."""
        result = await self._guarded(self.client.call_tool(tool, arguments))
        if result.is_error:
            text = "\n".join(block.text for block in result.content
                             if isinstance(block, mcp_types.TextContent))
            raise ToolFailed(self.server, tool, text or "the tool reported an error")
        return ToolOutcome(self.server, tool,
                           [block.model_dump(mode="json", by_alias=True, exclude_none=True)
                            for block in result.content],
                           result.structured_content)

    async def _guarded(self, request: Awaitable[T]) -> T:
        """Await ``request``; a dead connection is flagged (its owner opens a new one)."""
        try:
            return await request
        except MCPError as error:
            if error.code == mcp_types.CONNECTION_CLOSED:
                self.lost.set()
            raise Unavailable(f"MCP server {self.server!r}: {error}",
                              details={"server": self.server}) from None
        except (OSError, anyio.ClosedResourceError, anyio.BrokenResourceError,
                anyio.EndOfStream) as error:
            self.lost.set()
            raise Unavailable(f"MCP server {self.server!r} connection failed: {error!r}",
                              details={"server": self.server}) from None


def _transport(spec: ServerSpec) -> Transport:
    if isinstance(spec, StdioServerSpec):
        return stdio_client(StdioServerParameters(command=spec.command, args=spec.args,
                                                  env=spec.env or None, cwd=spec.cwd))
    return streamable_http_client(spec.url)


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


def _validator(schema: dict[str, Any]) -> Validator | None:
    """A validator of ``schema``, or ``None`` for a schema this side cannot apply:
    invalid, referring to itself without end, or to what it lacks. The server
    enforces those."""
    validator_class = validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except (SchemaError, RecursionError, Unresolvable):
        return None
    return validator_class(schema)
