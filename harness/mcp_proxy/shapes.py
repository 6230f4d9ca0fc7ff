"""What the MCP proxy answers and accepts, apart from the SDK that produces it (so that
the routes and the OpenAPI document need no SDK at start-up)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from harness.errors import Unavailable

ConnectionState = Literal["idle", "connecting", "connected", "failed", "closed"]


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


class ToolFailed(Unavailable):
    """The tool ran and reported an error; ``reason`` is its own message."""

    def __init__(self, server: str, tool: str, reason: str) -> None:
        super().__init__(f"tool {server}.{tool} failed: {reason}",
                         details={"server": server, "tool": tool, "message": reason})
        self.reason = reason
