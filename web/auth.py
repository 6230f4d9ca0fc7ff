"""The write token: with ``HARNESS_TOKEN`` set, only its holders may change anything.

A pure ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``, which buffers
and breaks streaming responses (SSE). Reads stay open: GET and HEAD need no token, and
OPTIONS must pass so that CORS preflights (which never carry credentials) succeed. The
WebSocket feed is read-only and is let through. Place it inside the CORS middleware so
that a 401 still carries CORS headers and the browser shows it to the page.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from harness.errors import Unauthorized
from web.http import json_response

OPEN_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerTokenAuth:
    """Require ``Authorization: Bearer <token>`` on every HTTP request that may write.

    With ``token=None`` every request passes, which is what the server does on a
    loopback host without ``HARNESS_TOKEN``.
    """

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self._token is None or scope["type"] != "http"
                or scope["method"] in OPEN_METHODS or holds_token(scope, self._token)):
            await self.app(scope, receive, send)
            return
        error = Unauthorized("this server needs Authorization: Bearer <HARNESS_TOKEN> to write")
        response = json_response(error.to_json(), status=error.status,
                                 headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


def holds_token(scope: Scope, token: bytes) -> bool:
    """Whether the request carries ``token`` as its bearer credentials.

    The scheme is case-insensitive (RFC 7235); the token is compared in constant time,
    so the response time says nothing about how much of a guess was right.
    """
    header = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
    scheme, _, credentials = header.strip().partition(b" ")
    return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), token)
