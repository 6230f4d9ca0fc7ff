"""A real harness server on a free loopback port, run by uvicorn in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import uvicorn
from sse_starlette.sse import AppStatus
from starlette.types import ASGIApp

from harness.settings import Settings
from tests.support.ports import free_port, listening_socket
from web.app import create_app
from web.connections import uvicorn_options_for


@dataclass
class RunningServer:
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}"

    @property
    def log_path(self) -> Path:
        return self.settings.log_path

    def settle(self, *, timeout_s: float = 10) -> str:
        """Wait until the server has read the whole log; return its position."""
        size = self.log_path.stat().st_size if self.log_path.exists() else 0
        deadline = time.monotonic() + timeout_s
        while True:
            position = httpx.get(f"{self.url}/api/health").json()["position"]
            if int(position.split(":")[1]) == size:
                return position
            if time.monotonic() > deadline:
                raise AssertionError(f"server at {position}, log is {size} bytes")
            time.sleep(0.01)

    def stop(self) -> None:
        stop_in_thread(self.server, self.thread)


def start_server(settings: Settings, *, timeout_s: float = 15,
                 keep_port: bool = False) -> RunningServer:
    """Start the app for ``settings`` (its port replaced by a free one, unless
    ``keep_port``: a restart on the same address) and wait until it answers ``/api/health``."""
    if not keep_port:
        settings = replace(settings, port=free_port())
    # The connection handling run.py gives it (web.connections).
    options = uvicorn_options_for(settings)
    server, thread = serve_in_thread(create_app(settings), port=settings.port,
                                     timeout_s=timeout_s, timeout_graceful_shutdown=5,
                                     **options)
    return RunningServer(settings, server, thread)


class InThreadServer(uvicorn.Server):
    """uvicorn's server, stopped as Ctrl-C stops it, but without waiting for a tick.

    uvicorn's main loop looks at ``should_exit`` every 0.1 s; a suite that stops a few
    hundred servers waited half a minute for it. Here the wait for the next tick ends
    at once when ``handle_exit`` is called, from any thread.

    ``handle_exit`` is uvicorn's own, not the one sse-starlette installs in its place:
    that one also sets ``AppStatus.should_exit``, a flag for the whole process, and would
    end the live streams of every other server in this process. The stopping server's
    own streams end through our HTTP protocol's shutdown hook
    (``web.connections.SHUTDOWN_EXTENSION``), as they do in ``run.py``.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken = asyncio.Event()

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000  # as uvicorn's: its date header each 10th
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=0.1)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        uvicorn_handle_exit = AppStatus.original_handler or uvicorn.Server.handle_exit
        uvicorn_handle_exit(self, sig, frame)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._woken.set)


def serve_in_thread(app: ASGIApp, *, port: int, timeout_s: float = 15, **options: Any
                    ) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve ``app`` with uvicorn on 127.0.0.1:``port`` in a thread of its own; return
    once it listens (uvicorn sets ``started`` after the lifespan's start-up). The port is
    bound here and the socket handed to uvicorn, so no other process can take it first."""
    server = InThreadServer(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", **options))
    sockets = [listening_socket(port)]
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets},
                              name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server thread died during start-up")
        if time.monotonic() > deadline:
            stop_in_thread(server, thread)
            raise TimeoutError(f"server did not start within {timeout_s} s")
        time.sleep(0.01)
    return server, thread


def stop_in_thread(server: uvicorn.Server, thread: threading.Thread, *,
                   timeout_s: float = 15) -> None:
    """Stop a server of ``serve_in_thread`` as Ctrl-C would, through ``handle_exit``:
    its open streams end at once, other servers of this process go on."""
    server.handle_exit(signal.SIGINT, None)
    thread.join(timeout=timeout_s)
    if thread.is_alive():
        raise RuntimeError(f"server did not stop within {timeout_s} s")


@asynccontextmanager
async def in_process_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The whole app, lifespan included, served in this process through httpx's ASGI
    transport: for request/response tests (it cannot consume an endless SSE stream)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client
