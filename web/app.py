"""The Starlette application: routes, CORS, and the lifespan that owns the live log.

Everything a request needs hangs off ``app.state`` and is built in the lifespan from
the ``Settings`` passed in; nothing is read from the environment here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from events.log import open_log
from harness import __version__
from harness.datasets import DatasetCatalog
from harness.demo import keep_demo_running
from harness.executor import Executor
from harness.live import LiveLog
from harness.mcp_proxy import McpProxy
from harness.memory import AgentMemory
from harness.page_feedback import LOG_FILE as PAGE_FEEDBACK_LOG
from harness.page_feedback import PageFeedbackStore
from harness.settings import Settings
from harness.signing_key import load_signing_key
from web import openapi, sse, ws
from web.auth import BearerTokenAuth
from web.http import EXCEPTION_HANDLERS
from web.origins import LOCAL_ORIGINS, LocalPagesOnly
from web.routes import (
    browser_harness,
    commands,
    datasets,
    feedback,
    mcp,
    memory,
    replay,
    runs,
    system,
)
from web.streams import StreamCounts

logger = logging.getLogger("harness.app")
STATIC_DIR = Path(__file__).parent / "static"


async def dashboard(request: object) -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")


async def critical(app: Starlette, name: str, task: Callable[..., Awaitable[None]], *,
                   task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    """Run a task the server cannot do without; if it dies, say so in ``/api/health``
    (503) rather than go on serving as if nothing had happened."""
    try:
        await task(task_status=task_status)
    except Exception as error:
        logger.exception("the %s stopped", name)
        app.state.failures[name] = describe(error)


def describe(error: BaseException) -> str:
    """What went wrong, seen through the task groups that wrapped it."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.ensure_dirs()
        live = LiveLog(open_log(settings.log, settings.data_dir),
                       bus_buffer=settings.stream_buffer,
                       append_deadline_s=settings.append_deadline_s)
        await live.start()
        app.state.settings = settings
        app.state.live = live
        app.state.datasets = DatasetCatalog(settings.datasets_dir)
        app.state.secret = load_signing_key(settings)
        app.state.page_feedback = PageFeedbackStore.open(settings.data_dir / PAGE_FEEDBACK_LOG)
        app.state.streams = StreamCounts()
        app.state.started_at = time.monotonic()
        app.state.failures = {}
        async with (
            AgentMemory(settings, semantic=settings.semantic_memory) as agent_memory,
            McpProxy(settings, record_log=lambda line: live.append([line])) as mcp_proxy,
            httpx.AsyncClient() as http_client,
            anyio.create_task_group() as tasks,
        ):
            app.state.memory = agent_memory
            app.state.mcp = mcp_proxy
            await tasks.start(critical, app, "log reader", live.run)
            # Commands and execution: the executor resumes interrupted runs on start.
            app.state.executor = Executor(live, app.state.datasets, settings,
                                          http_client=http_client)
            await tasks.start(critical, app, "executor", app.state.executor.run)
            if settings.demo:
                tasks.start_soon(keep_demo_running, app.state.executor)
            try:
                yield
            finally:
                live.bus.close()
                tasks.cancel_scope.cancel()
        await live.log.aclose()

    routes = [
        *runs.routes,
        *replay.routes,
        *commands.routes,
        *datasets.routes,
        *system.routes,
        *feedback.routes,
        *browser_harness.routes,
        *memory.routes,
        *mcp.routes,
        *sse.routes,
        *ws.routes,
        *openapi.routes,
        Route("/", dashboard, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    middleware = [
        Middleware(CORSMiddleware, allow_origin_regex=LOCAL_ORIGINS,
                   allow_methods=["*"], allow_headers=["*"],
                   expose_headers=["X-Harness-Position", "ETag", "Location"]),
        # Inside CORS, so that a 401 carries CORS headers and preflights never need a token.
        Middleware(BearerTokenAuth, token=settings.token),
        Middleware(LocalPagesOnly),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.openapi = openapi.build_document(routes, title="harness", version=__version__)
    return app
