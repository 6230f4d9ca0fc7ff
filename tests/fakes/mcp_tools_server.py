"""A real MCP server over stdio for the proxy's tests, written with the official SDK
(``MCPServer`` is what mcp 1.x called ``FastMCP``).

Run as ``python mcp_tools_server.py``; the proxy launches it as a subprocess.
"""

from __future__ import annotations

import os

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("fake-tools")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def explode() -> str:
    """Always fails, as a tool with a bug would."""
    raise ToolError("the fuse was lit")


@server.tool()
async def wait(seconds: float) -> str:
    """Answer after ``seconds``, to outlast a caller's timeout."""
    await anyio.sleep(seconds)
    return "done"


@server.tool()
def pid() -> int:
    """The server's process id, so a test can kill it."""
    return os.getpid()


if __name__ == "__main__":
    server.run()
