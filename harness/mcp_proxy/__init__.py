"""The MCP tool proxy: reach the MCP servers configured in ``mcp.json`` over HTTP."""

from harness.mcp_proxy.proxy import McpProxy
from harness.mcp_proxy.shapes import ToolCall

__all__ = ["McpProxy", "ToolCall"]
