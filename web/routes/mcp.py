"""``/api/mcp``: the MCP servers of ``mcp.json``, their tools, and calling one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.errors import NotFound
from harness.mcp_proxy import McpProxy, ToolCall
from harness.mcp_proxy.shapes import ServerListing, ToolListing, ToolOutcome
from web.api import endpoint
from web.http import json_response, live_state


@endpoint(summary="The configured MCP servers and their state", tag="mcp",
          response=ServerListing, cacheable=True)
async def list_servers(request: Request) -> Response:
    proxy: McpProxy = request.app.state.mcp
    return live_state(request, proxy.servers(), position=request.app.state.live.position)


@endpoint(summary="One MCP server's tools", tag="mcp", response=ToolListing, errors=(502,),
          cacheable=True)
async def list_tools(request: Request) -> Response:
    proxy: McpProxy = request.app.state.mcp
    tools = await proxy.tools(request.path_params["name"])
    return live_state(request, tools, position=request.app.state.live.position)


@endpoint(summary="Call an MCP tool with arguments checked against its input schema",
          tag="mcp", body=ToolCall, response=ToolOutcome, errors=(404, 502))
async def call_tool(request: Request, body: ToolCall) -> Response:
    proxy: McpProxy = request.app.state.mcp
    if body.run_id is not None and body.run_id not in request.app.state.live.models.runs.runs:
        raise NotFound("run", body.run_id)  # its log line would only be a problem
    outcome = await proxy.call(request.path_params["name"], request.path_params["tool"], body)
    return json_response(outcome)


routes = [
    Route("/api/mcp/servers", list_servers, methods=["GET"]),
    Route("/api/mcp/servers/{name}/tools", list_tools, methods=["GET"]),
    Route("/api/mcp/servers/{name}/tools/{tool}", call_tool, methods=["POST"]),
]
