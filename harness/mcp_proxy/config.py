"""Reading ``HARNESS_DATA_DIR/mcp.json``, in the format MCP clients commonly use::

    {"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "some-mcp-server"], "env": {"K": "v"}},
        "search": {"url": "http://127.0.0.1:8931/mcp", "timeoutS": 10}}}

A missing file means no servers. A file that cannot be read as that shape is reported
(the listing shows the error) instead of stopping the server; one bad entry does not
hide the good ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

MCP_CONFIG_FILE = "mcp.json"

DEFAULT_TIMEOUT_S = 30.0

TimeoutS = Annotated[float, Meta(gt=0, le=3600, description="per-call timeout in seconds")]


class StdioServerSpec(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """A server launched as a subprocess and spoken to over its stdin/stdout."""

    command: Annotated[str, Meta(min_length=1)]
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    timeout_s: TimeoutS = DEFAULT_TIMEOUT_S


class HttpServerSpec(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """A server reached over streamable HTTP."""

    url: Annotated[str, Meta(pattern=r"^https?://")]
    timeout_s: TimeoutS = DEFAULT_TIMEOUT_S


ServerSpec = StdioServerSpec | HttpServerSpec


class McpConfig(msgspec.Struct, frozen=True):
    """The servers that could be read, and what was wrong with the rest."""

    servers: dict[str, ServerSpec]
    errors: dict[str, str]
    """Keyed by server name, or ``"mcp.json"`` for the file as a whole."""


def load_config(path: Path) -> McpConfig:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return McpConfig({}, {})
    except OSError as error:
        return McpConfig({}, {MCP_CONFIG_FILE: f"cannot read {path}: {error.strerror}"})
    try:
        document = msgspec.json.decode(raw, type=dict[str, Any])
        entries = msgspec.convert(document.get("mcpServers", {}), dict[str, dict[str, Any]])
    except msgspec.MsgspecError as error:
        return McpConfig({}, {MCP_CONFIG_FILE: f"{path.name} is not a valid MCP config: {error}"})
    servers: dict[str, ServerSpec] = {}
    errors: dict[str, str] = {}
    for name, entry in entries.items():
        kind: type[StdioServerSpec | HttpServerSpec] = (
            StdioServerSpec if "command" in entry else HttpServerSpec)
        try:
            servers[name] = msgspec.convert(entry, kind)
        except msgspec.ValidationError as error:
            errors[name] = f"server {name!r} needs a command or a http(s) url: {error}"
    return McpConfig(servers, errors)
