"""``@endpoint``: one declaration per route that both validates its input and documents it.

A handler says which msgspec struct its query string and body must convert to, and
what it answers; the decorator parses and validates with exactly those types (422,
400 and 413 as ``web.http`` raises them) and passes the results in as ``query=`` and
``body=``. ``web.openapi`` reads the same declaration to build ``/openapi.json``, so
the document cannot drift from what the code accepts.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from web.http import POSITION_HEADER, etag_matches, parse_query, position_etag, read_body
from web.position_cache import ResponsesAtPosition

Handler = Callable[..., Awaitable[Response]]


@dataclass(frozen=True, kw_only=True)
class Operation:
    """What a route takes and gives, for validation and for the OpenAPI document.

    ``response`` is the type of the success body (``None`` for none; a tuple of types
    for a body that is any one of them, as each message of an event stream);
    ``media_type`` is what a non-JSON success body is; ``statuses`` are the success
    statuses, the first the usual one; ``errors`` are the client errors the route can
    answer beyond those its inputs imply. ``body_limit_factor`` multiplies the
    server's body limit for routes that legitimately take large bodies.

    ``per_position`` says the success body is a function of the URL and the runs log's
    position alone (a read model): then a matching ``If-None-Match`` is answered ``304``
    before the handler runs, and the encoded body is kept for the next request of the
    same URL at the same position.
    """

    summary: str
    tag: str
    query: type | None = None
    body: type | None = None
    response: Any = None
    media_type: str = "application/json"
    statuses: tuple[int, ...] = (200,)
    errors: tuple[int, ...] = ()
    body_limit_factor: int = 1
    description: str | None = None
    cacheable: bool = False
    per_position: bool = False


def endpoint(**options: Any) -> Callable[[Handler], Handler]:
    operation = Operation(**options)

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def call(request: Request) -> Response:
            if operation.per_position:
                return await _at_position(request, operation, validated)
            return await validated(request)

        async def validated(request: Request) -> Response:
            inputs: dict[str, Any] = {}
            if operation.query is not None:
                inputs["query"] = parse_query(request, operation.query)
            if operation.body is not None:
                settings = request.app.state.settings
                limit = settings.max_body_bytes * operation.body_limit_factor
                inputs["body"] = await read_body(request, operation.body, limit_bytes=limit,
                                                 timeout_s=settings.body_timeout_s)
            return await handler(request, **inputs)

        call.operation = operation  # type: ignore[attr-defined]
        return call

    return wrap


async def _at_position(request: Request, operation: Operation, handler: Handler) -> Response:
    """``handler``'s answer at the log's current position; a ``304``, or the body kept
    from an earlier request, when the position says enough: then no read model is
    touched at all."""
    position = str(request.app.state.live.position)
    cache: ResponsesAtPosition = request.app.state.responses
    query = request.scope["query_string"]
    key = f"{request.scope['path']}?{query.decode('latin-1')}"
    kept = cache.get(position, key)
    if kept is None and query and operation.query is not None:
        parse_query(request, operation.query)  # a malformed query is a 422, never a 304
    etag = position_etag(position)
    if etag_matches(request, etag):
        return Response(status_code=304, headers={POSITION_HEADER: position, "ETag": etag})
    if kept is not None:
        return kept.response()
    response = await handler(request)
    cache.keep(position, key, response)
    return response


def operation_of(handler: object) -> Operation | None:
    return getattr(handler, "operation", None)
