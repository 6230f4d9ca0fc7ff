"""Who can reach the server: the address a connection arrived on, and the name it asked for.

``run.py`` refuses to bind beyond loopback without a token, but an ASGI app is also
started by other means (``uvicorn web.main:app --host 0.0.0.0``), so the app checks
each connection itself: one that arrived on a non-loopback address of this machine is
refused (403) unless the server has a write token or was told
``allow_unauthenticated``.

A page on an attacker's domain can make the browser send it to this server by
re-pointing its DNS name at 127.0.0.1 (DNS rebinding); the request then carries the
attacker's name in ``Host``. So a ``Host`` the server does not answer to is refused
(421): loopback names, IP literals (which no other site can serve pages from), the
host the server was told to bind, and the names listed in ``allowed_hosts`` (``*``:
any, for a replica behind a proxy that checks names itself).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from harness.errors import Exposed, UnknownHost
from web.http import refuse

logger = logging.getLogger("harness.exposure")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) can only be reached from this machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


class ExposedWithoutToken:
    """Refuse every connection that arrived on a non-loopback address (unless opened).

    ``scope["server"]`` is the local address the connection was accepted on; ``None``
    (a Unix socket) is reachable only through the file system, so it passes.
    """

    def __init__(self, app: ASGIApp, *, open_to_network: bool) -> None:
        self.app = app
        self._open = open_to_network
        self._warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if (self._open or scope["type"] not in ("http", "websocket") or server is None
                or is_loopback(str(server[0]))):
            await self.app(scope, receive, send)
            return
        if not self._warned:
            self._warned = True
            logger.warning("refusing connections on %s: the server is reachable beyond "
                           "loopback without HARNESS_TOKEN", server[0])
        await refuse(scope, receive, send, Exposed(
            f"this server was reached on {server[0]}, beyond loopback, and has no write "
            "token; set HARNESS_TOKEN (or HARNESS_ALLOW_UNAUTHENTICATED=1) to serve there"))


class KnownHostsOnly:
    """Refuse (421) requests whose ``Host`` names a host this server does not answer to."""

    def __init__(self, app: ASGIApp, *, bind_host: str, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        names = {name.strip().lower().rstrip(".") for name in allowed_hosts if name.strip()}
        if bind_host not in WILDCARD_BINDS:
            names.add(bind_host.strip("[]").lower())
        self._any = "*" in names
        self._names = frozenset(names)

    def answers_to(self, host_header: str) -> bool:
        name = _hostname(host_header)
        return (self._any or name in self._names or is_loopback(name)
                or _is_ip_literal(name))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = _host(scope) if scope["type"] in ("http", "websocket") else None
        if host is None or self.answers_to(host):
            await self.app(scope, receive, send)
            return
        await refuse(scope, receive, send, UnknownHost(
            f"this server does not answer to the host {host!r}; add it to "
            "HARNESS_ALLOWED_HOSTS if it should", details={"host": host}))


def _host(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"host":
            return value.decode("latin-1")
    return None


def _hostname(host_header: str) -> str:
    """The name in a ``Host`` header, without its port: ``[::1]:80`` → ``::1``."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")
