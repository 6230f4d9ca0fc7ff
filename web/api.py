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

from web.http import parse_query, read_body

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


def endpoint(**options: Any) -> Callable[[Handler], Handler]:
    operation = Operation(**options)

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def call(request: Request) -> Response:
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


def operation_of(handler: object) -> Operation | None:
    return getattr(handler, "operation", None)
