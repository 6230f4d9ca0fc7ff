"""Which web pages may use this server, and refusing what the others attempt.

CORS only hides responses from other origins: a page elsewhere can still *send* a
"simple" POST (``text/plain``, no preflight) and the server would act on it, and
WebSockets have no CORS at all. So every request that may write, and every WebSocket
handshake, that comes from a browser page (it carries ``Origin``) must come from a
local page: any port of localhost or 127.0.0.1. Requests without ``Origin`` —
scripts, curl, other servers — are not from a page and pass.

The ``null`` origin is sent by ``file://`` pages (the feedback widget) but also by a
sandboxed iframe that *any* website can make, so it is trusted only as far as the
widget needs: it may read (the board, runs, the live streams) except agent memory and
the MCP tools, which are private to whoever runs the server, and it may write only page
feedback (``POST /api/page-feedback``). Anything else from ``null`` needs the write
token. The CORS answer for ``null`` follows the same rule, so a refused request's
response is hidden from the page as well.
"""

from __future__ import annotations

import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from harness.errors import Forbidden
from web.auth import holds_token
from web.http import refuse

LOCAL_ORIGINS = r"^https?://(localhost|127\.0\.0\.1)(:\d+)?$"
LOCAL_OR_NULL_ORIGINS = r"^(https?://(localhost|127\.0\.0\.1)(:\d+)?|null)$"
_LOCAL = re.compile(LOCAL_ORIGINS)
NULL_ORIGIN = "null"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a null-origin page may write: the feedback widget on file:// pages.
NULL_WRITES = frozenset({("POST", "/api/page-feedback")})
# What a null-origin page may not even read: memory is the agents' private notes, and
# the MCP tools are the operator's.
PRIVATE_PREFIXES = ("/api/memory", "/api/mcp")
EXPOSED_HEADERS = ["X-Harness-Position", "ETag", "Location"]


def is_local(origin: str) -> bool:
    return _LOCAL.match(origin) is not None


def null_origin_may(method: str, path: str) -> bool:
    """Whether a ``null``-origin page may do ``method`` on ``path`` without the token."""
    if method in SAFE_METHODS:
        return not path.startswith(PRIVATE_PREFIXES)
    return (method, path) in NULL_WRITES


class PageCors:
    """CORS for local pages, and for ``null`` only where ``null_origin_may`` lets it.

    A preflight is judged by the method it announces; when the server has a token, a
    ``null`` preflight is answered for any method, since the request that follows is
    refused unless it carries the token (a preflight never carries credentials).
    """

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self._local = _cors(app, LOCAL_ORIGINS)
        self._with_null = _cors(app, LOCAL_OR_NULL_ORIGINS)
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _origin(scope) == NULL_ORIGIN and self._admits_null(scope):
            await self._with_null(scope, receive, send)
        else:
            await self._local(scope, receive, send)

    def _admits_null(self, scope: Scope) -> bool:
        method = scope["method"]
        if method == "OPTIONS":
            if self._token is not None:
                return True
            method = _header(scope, b"access-control-request-method") or method
        elif self._token is not None and holds_token(scope, self._token):
            return True
        return null_origin_may(method.upper(), scope["path"])


class LocalPagesOnly:
    """Refuse (403) writes from other pages, what ``null`` may not do without the
    token, and WebSocket handshakes from other pages (closed, 1008)."""

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _origin(scope)
        if origin is None or is_local(origin) or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
        elif origin == NULL_ORIGIN:
            if (scope["type"] == "websocket" or null_origin_may(scope["method"], scope["path"])
                    or (self._token is not None and holds_token(scope, self._token))):
                await self.app(scope, receive, send)
            else:
                await refuse(scope, receive, send, Forbidden(
                    f"a page of the null origin (a file:// page or a sandboxed frame) may "
                    f"not {scope['method']} {scope['path']} without the token; it may read, "
                    "and post page feedback", details={"origin": origin}))
        elif scope["type"] == "http" and scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
        else:
            await refuse(scope, receive, send, Forbidden(
                f"requests from the page {origin!r} may not write here; only local pages may",
                details={"origin": origin}))


def _cors(app: ASGIApp, origins: str) -> CORSMiddleware:
    return CORSMiddleware(app, allow_origin_regex=origins, allow_methods=["*"],
                          allow_headers=["*"], expose_headers=EXPOSED_HEADERS)


def _origin(scope: Scope) -> str | None:
    return _header(scope, b"origin")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None
