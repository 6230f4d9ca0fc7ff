"""``/api/memory``: agents' notes, listed newest first or searched with ``q``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.memory import AgentMemory, MemoryQuery, NewMemory
from web.http import POSITION_HEADER, json_response, parse_query, read_body, read_model


async def search_memory(request: Request) -> Response:
    memory: AgentMemory = request.app.state.memory
    query = parse_query(request, MemoryQuery)
    results = await memory.search(query)
    return read_model(request, results, position=memory.position)


async def add_memory(request: Request) -> Response:
    memory: AgentMemory = request.app.state.memory
    draft = await read_body(request, NewMemory, limit_bytes=memory.settings.max_body_bytes)
    entry = await memory.add(draft)
    return json_response(entry, status=201, headers={POSITION_HEADER: memory.position})


routes = [Route("/api/memory", search_memory, methods=["GET"]),
          Route("/api/memory", add_memory, methods=["POST"])]
