"""The MCP tool proxy: reach the MCP servers configured in ``mcp.json`` over HTTP."""

from harness.mcp_proxy.proxy import McpProxy, ToolCall

__all__ = ["McpProxy", "ToolCall"]
