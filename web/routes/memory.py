"""``/api/memory``: agents' notes, listed newest first or searched with ``q``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.memory import MemoryEntry, MemoryQuery, MemoryResults, NewMemory
from harness.memory.service import AgentMemory
from web.api import endpoint
from web.http import POSITION_HEADER, json_response, read_model


@endpoint(summary="Memory entries, newest first, or ranked by relevance to q", tag="memory",
          query=MemoryQuery, response=MemoryResults, cacheable=True)
async def search_memory(request: Request, query: MemoryQuery) -> Response:
    memory: AgentMemory = request.app.state.memory
    results, version = await memory.search_with_version(query)
    return read_model(request, results, position=memory.position, version=version)


@endpoint(summary="Record a memory entry", tag="memory", body=NewMemory, response=MemoryEntry,
          statuses=(201,))
async def add_memory(request: Request, body: NewMemory) -> Response:
    memory: AgentMemory = request.app.state.memory
    entry = await memory.add(body)
    return json_response(entry, status=201, headers={POSITION_HEADER: memory.position})


routes = [Route("/api/memory", search_memory, methods=["GET"]),
          Route("/api/memory", add_memory, methods=["POST"])]
