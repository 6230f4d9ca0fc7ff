"""``/api/mcp``: the MCP servers of ``mcp.json``, their tools, and calling one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.mcp_proxy import McpProxy, ToolCall
from web.http import json_response, read_body


async def list_servers(request: Request) -> Response:
    proxy: McpProxy = request.app.state.mcp
    return json_response(proxy.servers())


async def list_tools(request: Request) -> Response:
    proxy: McpProxy = request.app.state.mcp
    return json_response(await proxy.tools(request.path_params["name"]))


async def call_tool(request: Request) -> Response:
    proxy: McpProxy = request.app.state.mcp
    proxy.connection(request.path_params["name"])  # 404 before reading the body
    call = await read_body(request, ToolCall, limit_bytes=proxy.settings.max_body_bytes)
    outcome = await proxy.call(request.path_params["name"], request.path_params["tool"], call)
    return json_response(outcome)


routes = [
    Route("/api/mcp/servers", list_servers, methods=["GET"]),
    Route("/api/mcp/servers/{name}/tools", list_tools, methods=["GET"]),
    Route("/api/mcp/servers/{name}/tools/{tool}", call_tool, methods=["POST"]),
]
