"""Which web pages may use this server, and refusing the others' writes and streams.

CORS only hides responses from other origins: a page elsewhere can still *send* a
"simple" POST (``text/plain``, no preflight) and the server would act on it, and
WebSockets have no CORS at all. So every request that may write, and every WebSocket
handshake, that comes from a browser page (it carries ``Origin``) must come from a
local page: any port of localhost or 127.0.0.1, or the ``null`` origin of ``file://``
pages (the feedback widget). Requests without ``Origin`` — scripts, curl, other
servers — are not from a page and pass.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from harness.errors import Forbidden
from web.http import json_response

LOCAL_ORIGINS = r"^(https?://(localhost|127\.0\.0\.1)(:\d+)?|null)$"
_LOCAL = re.compile(LOCAL_ORIGINS)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
POLICY_VIOLATION = 1008


def is_local(origin: str) -> bool:
    return _LOCAL.match(origin) is not None


class LocalPagesOnly:
    """Refuse writes (403) and WebSocket handshakes (closed, 1008) from other pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _origin(scope)
        guarded = scope["type"] == "websocket" or (
            scope["type"] == "http" and scope["method"] not in SAFE_METHODS)
        if not guarded or origin is None or is_local(origin):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
        else:
            error = Forbidden(f"requests from the page {origin!r} may not write here; "
                              "only local pages may")
            await json_response(error.to_json(), status=error.status)(scope, receive, send)


def _origin(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            return value.decode("latin-1")
    return None
