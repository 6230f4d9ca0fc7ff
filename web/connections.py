"""How uvicorn holds connections: a cap, a header-read deadline, and no endless draining.

uvicorn has no header-read timeout and no default connection cap, and a connection it
closes (``transport.close()``) is kept until its send buffer drains, which a peer that
stopped reading never lets happen. Each such connection holds a file descriptor and
kernel buffers; enough of them and ``os.open`` of the log fails with ``EMFILE``. The
protocols here are uvicorn's own (httptools, websockets-sansio) with three additions:

- **a connection cap**: beyond ``max_connections``, the connection idle the longest
  (waiting for a request's headers, or kept alive between requests) is aborted to make
  room; if none is idle, the newcomer is. File descriptors stay below the process limit
  and new clients still get in while silent sockets pile up.
- **a header-read deadline**: a request's headers must arrive within ``header_timeout_s``
  of its first byte (or of the connection opening); a slowloris client is aborted.
- **bounded draining**: a closed connection whose peer has taken none of its remaining
  data for ``drain_timeout_s`` is aborted (RST), which frees its buffers at once.

and a way around the ASGI send for the SSE fan-out: ``BODY_WRITER_EXTENSION`` in a
request's scope writes a response body chunk straight to the socket, synchronously,
when that can be done without waiting (``write_body_now``);

and a way for an endless response to end when its server stops: ``SHUTDOWN_EXTENSION``
in a request's scope registers a callback that uvicorn's graceful shutdown calls (it
calls ``shutdown()`` on every connection of that server). sse-starlette's own signal,
``AppStatus.should_exit``, is one flag for the whole process: with it alone, stopping
one server of a process ends every other one's streams too;

and one change: a WebSocket close frame is queued even while the peer is not reading,
so a client cut off for being slow is told 1013 at once rather than when it reads again.

The timeouts default to the constants below; ``uvicorn_options`` takes others (the
server's settings, which tests shorten).

``run.py`` and the tests' servers use these through ``uvicorn_options``; a bare
``uvicorn web.main:app`` gets them with ``--http web.connections:HttpProtocol
--ws web.connections:WebSocketProtocol``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import resource
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from harness.settings import Settings

# The defaults are the settings' (``harness.settings``; a bare uvicorn gets these).
HEADER_TIMEOUT_S = Settings.header_timeout_s  # a request's first byte to its headers' end
DRAIN_TIMEOUT_S = Settings.drain_timeout_s  # closing a connection to aborting it if unsent
WS_CLOSE_TIMEOUT_S = Settings.ws_close_timeout_s  # a close frame sent to closing (uvicorn: 10 s)
IDLE_TIMEOUT_S = 5        # keep-alive: uvicorn's own timeout_keep_alive
FD_RESERVE = 128          # descriptors kept for the log, side logs, threads and MCP pipes
DEFAULT_MAX_CONNECTIONS = 1000
USAGE_EXTENSION = "harness.connections"
BODY_WRITER_EXTENSION = "harness.body_writer"
SHUTDOWN_EXTENSION = "harness.on_shutdown"


def max_connections_for_this_process(wanted: int = DEFAULT_MAX_CONNECTIONS) -> int:
    """``wanted``, lowered so that connections leave ``FD_RESERVE`` descriptors free."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(8, min(wanted, soft - FD_RESERVE))


def open_files() -> tuple[int, int | None]:
    """Open file descriptors of this process, and the limit on them (``None``: none)."""
    try:
        count = len(os.listdir("/proc/self/fd"))
    except OSError:
        count = -1
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return count, None if soft == resource.RLIM_INFINITY else soft


class DrainBoundTransport:
    """A transport whose ``close()`` becomes ``abort()`` when what it still has to send
    has not moved for ``drain_timeout_s`` (a slow reader that keeps reading may finish).

    Everything else is the wrapped transport's; uvicorn's protocols (and the WebSocket
    protocol a connection is upgraded to) hold this object as their transport.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, *,
                 drain_timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        self._transport = transport
        self._loop = loop
        self._drain_timeout_s = drain_timeout_s
        self._closing = False
        # The calls made per chunk sent, bound here rather than looked up by __getattr__.
        self.write = transport.write
        self.is_closing = transport.is_closing

    def close(self) -> None:
        self._transport.close()
        if not self._closing:
            self._closing = True
            self._watch_drain(self._transport.get_write_buffer_size())

    def _watch_drain(self, unsent: int) -> None:
        if unsent:  # once nothing is left the transport closes on its own
            self._loop.call_later(self._drain_timeout_s, self._abort_unless_moved, unsent)

    def _abort_unless_moved(self, unsent_before: int) -> None:
        unsent = self._transport.get_write_buffer_size()
        if unsent and unsent >= unsent_before:
            self._transport.abort()
        else:
            self._watch_drain(unsent)

    def abort(self) -> None:
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the cap, the header deadline and bounded drain."""

    # Named on uvicorn's command line, the class is used as it is: lowered here too.
    max_connections = max_connections_for_this_process()
    header_timeout_s = HEADER_TIMEOUT_S
    drain_timeout_s = DRAIN_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idle_since: float | None = None  # None while a request is being served
        self._header_deadline: asyncio.TimerHandle | None = None
        self._on_shutdown: list[Callable[[], None]] = []  # the current response's
        self._shutting_down = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        wrapped = DrainBoundTransport(transport, self.loop,  # type: ignore[arg-type]
                                      drain_timeout_s=self.drain_timeout_s)
        super().connection_made(wrapped)  # type: ignore[arg-type]
        self.idle_since = self.loop.time()
        self._start_header_deadline()
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_deadline()
        self.idle_since = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
        extensions[USAGE_EXTENSION] = self.usage
        self._start_header_deadline()

    def on_headers_complete(self) -> None:
        self._stop_header_deadline()
        self.idle_since = None
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:  # not an upgrade
            extensions: dict[str, Any] = self.scope["extensions"]  # on_message_begin's
            extensions[BODY_WRITER_EXTENSION] = functools.partial(write_body_now, self.cycle)
            extensions[SHUTDOWN_EXTENSION] = self._call_at_shutdown

    def on_response_complete(self) -> None:
        self.idle_since = self.loop.time()
        self._on_shutdown.clear()
        super().on_response_complete()

    def shutdown(self) -> None:
        self._shutting_down = True
        callbacks, self._on_shutdown = self._on_shutdown, []
        for callback in callbacks:
            callback()
        super().shutdown()

    def _call_at_shutdown(self, callback: Callable[[], None]) -> None:
        """``callback`` when the server shuts down; at once if it already has (a
        response that began just before and registers just after)."""
        if self._shutting_down:
            callback()
        else:
            self._on_shutdown.append(callback)

    def usage(self) -> tuple[int, int]:
        """Connections open on this server (HTTP and WebSocket), and the cap."""
        return len(self.connections), self.max_connections

    def _start_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout_s,
                                                         self.transport.abort)

    def _stop_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _make_room(self) -> None:
        if len(self.connections) <= self.max_connections:
            return
        idle = [connection for connection in self.connections
                if isinstance(connection, HttpProtocol) and connection is not self
                and connection.idle_since is not None]
        victim = min(idle, key=lambda connection: connection.idle_since or 0.0, default=self)
        # Out of the count now; uvicorn forgets it for good when the abort lands.
        self.connections.discard(victim)
        victim.idle_since = None
        victim.transport.abort()


def write_body_now(cycle: RequestResponseCycle, body: bytes) -> bool:
    """Write ``body`` as the next chunk of ``cycle``'s response at once, framed exactly as
    uvicorn's ``send`` of ``{"type": "http.response.body", "body": body, "more_body":
    True}`` would, if that send would neither wait nor end the response; else write
    nothing and say so (``False``): the caller sends it through ASGI instead.

    It costs one ``transport.write``, where the ASGI send costs the app's middleware
    wrappers and a task switch per chunk. It bypasses the middleware: for responses
    whose body no middleware rewrites (the SSE stream's). The caller keeps the order
    with its own sends: it writes only while none of them is under way or waiting.
    """
    if not (cycle.chunked_encoding and not cycle.response_complete
            and not cycle.disconnected and not cycle.flow.write_paused
            and not cycle.transport.is_closing()):
        return False
    if body:  # an empty chunk would end the response
        cycle.transport.write(b"%x\r\n%b\r\n" % (len(body), body))
    return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, except that a close frame is not held back while the
    peer is not reading: it is queued behind what is already buffered, and the
    connection is aborted if the peer has not read it within the close and drain timeouts."""

    close_timeout_s = WS_CLOSE_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.close_timeout = self.close_timeout_s

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close" and self.handshake_complete:
            self.writable.set()
        await super().send(message)


def http_protocol(*, max_connections: int, header_timeout_s: float = HEADER_TIMEOUT_S,
                  drain_timeout_s: float = DRAIN_TIMEOUT_S) -> type[HttpProtocol]:
    """``HttpProtocol`` with its own cap and timeouts (uvicorn builds one protocol per
    connection, from a class)."""
    return type("HttpProtocol", (HttpProtocol,), {
        "max_connections": max_connections, "header_timeout_s": header_timeout_s,
        "drain_timeout_s": drain_timeout_s})


def uvicorn_options(*, max_connections: int, header_timeout_s: float = HEADER_TIMEOUT_S,
                    drain_timeout_s: float = DRAIN_TIMEOUT_S,
                    ws_close_timeout_s: float = WS_CLOSE_TIMEOUT_S) -> dict[str, Any]:
    """The uvicorn settings that keep connections bounded, for ``uvicorn.run``/``Config``.

    uvicorn's own ``limit_concurrency`` is not set: it answers 503 as soon as the count
    reaches the cap, which the protocol has just made room under.
    """
    return {"http": http_protocol(max_connections=max_connections,
                                  header_timeout_s=header_timeout_s,
                                  drain_timeout_s=drain_timeout_s),
            "ws": type("WebSocketProtocol", (WebSocketProtocol,),
                       {"close_timeout_s": ws_close_timeout_s}),
            "timeout_keep_alive": IDLE_TIMEOUT_S, "ws_per_message_deflate": False}


def uvicorn_options_for(settings: Settings) -> dict[str, Any]:
    """``uvicorn_options`` with ``settings``' connection cap and timeouts."""
    return uvicorn_options(
        max_connections=max_connections_for_this_process(settings.max_connections),
        header_timeout_s=settings.header_timeout_s, drain_timeout_s=settings.drain_timeout_s,
        ws_close_timeout_s=settings.ws_close_timeout_s)
