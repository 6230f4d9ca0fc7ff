"""The Starlette application: routes, CORS, and the lifespan that owns the live log.

Everything a request needs hangs off ``app.state`` and is built in the lifespan from
the ``Settings`` passed in; nothing is read from the environment here.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from events.log import EventLog, open_log
from harness import __version__
from harness.browser_harness import ImportsInFlight
from harness.datasets import DatasetCatalog
from harness.demo import keep_demo_running
from harness.executor import Executor
from harness.executor_lock import LOCK_FILE as EXECUTOR_LOCK_FILE
from harness.executor_lock import ExecutorLock
from harness.heap import tune_collector
from harness.leases import LocalLeases, RunLeases
from harness.live import LiveLog
from harness.mcp_proxy import McpProxy
from harness.memory.service import AgentMemory
from harness.page_feedback import LOG_FILE as PAGE_FEEDBACK_LOG
from harness.page_feedback import PageFeedbackStore
from harness.prices import PRICES_FILE, load_prices
from harness.providers import SharedHttpClient
from harness.settings import Settings
from harness.signing_key import load_signing_key
from harness.snapshots import SnapshotStore
from harness.snapshotting import keep_snapshots, take_snapshot
from harness.supervisor import Supervisor
from web import openapi, sse, ws
from web.auth import BearerTokenAuth
from web.coalescing import ItemCoalescer, current_item
from web.dashboard_page import DashboardPage, RevalidatedStaticFiles
from web.exposure import ExposedWithoutToken, KnownHostsOnly
from web.fanout import Fanout
from web.http import EXCEPTION_HANDLERS
from web.origins import LocalPagesOnly, PageCors
from web.position_cache import ResponsesAtPosition
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
SHUTDOWN_SNAPSHOT_S = 30


async def _last_snapshot(live: LiveLog, snapshots: SnapshotStore) -> None:
    """A snapshot at a clean shutdown, so the next start replays nothing; bounded, and
    never a reason for the shutdown to fail."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(SHUTDOWN_SNAPSHOT_S):
        try:
            await take_snapshot(live, snapshots)
        except Exception:  # a cache: whatever went wrong, the log is still whole
            logger.exception("no snapshot at shutdown")


async def signing_key(settings: Settings, log: EventLog) -> bytes:
    """The Browser Harness key: replicas on a JetStream log share one in its key-value
    store; a server on a file keeps it in its data directory."""
    if settings.log == "file":
        return load_signing_key(settings)
    from events.jetstream import JetStreamLog
    from harness.signing_key import shared_signing_key

    if not isinstance(log, JetStreamLog):
        raise TypeError(f"HARNESS_LOG={settings.log} opened a {type(log).__name__}")
    return await shared_signing_key(settings, log)


def run_leases(settings: Settings, log: EventLog) -> RunLeases:
    """Who may execute a run: this process alone (a file log), or whichever replica holds
    the run's lease (a JetStream log; ``harness.kv_leases``)."""
    if settings.log == "file":
        return LocalLeases()
    from events.jetstream import JetStreamLog
    from harness.kv_leases import KvLeases

    if not isinstance(log, JetStreamLog):
        raise TypeError(f"HARNESS_LOG={settings.log} opened a {type(log).__name__}")
    return KvLeases(log, ttl_s=settings.lease_ttl_s)


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.ensure_dirs()
        tune_collector()
        log = open_log(settings.log, settings.data_dir)
        live = LiveLog(log, bus_buffer=settings.stream_buffer,
                       append_deadline_s=settings.append_deadline_s)
        snapshots = (SnapshotStore(settings.snapshots_dir) if settings.snapshot_events
                     else None)
        await live.start(snapshots=snapshots)
        app.state.settings = settings
        app.state.live = live
        app.state.fanout = fanout = Fanout(
            live.bus, encode=sse.encode_frames,
            reset=lambda reset: sse.reset_frame(reset.position),
            coalescer=ItemCoalescer(functools.partial(current_item, live),
                                    window_s=settings.sse_item_window_s),
            max_batches=settings.stream_buffer, ping_s=settings.sse_ping_s,
            stall_s=settings.send_timeout_s)
        app.state.datasets = DatasetCatalog(settings.datasets_dir)
        app.state.prices = load_prices(settings.data_dir / PRICES_FILE)
        app.state.secret = await signing_key(settings, log)
        app.state.page_feedback = PageFeedbackStore.open(settings.data_dir / PAGE_FEEDBACK_LOG)
        app.state.streams = StreamCounts()
        app.state.imports_in_flight = ImportsInFlight()
        app.state.started_at = time.monotonic()
        # Tasks the server cannot do without: restarted when they fail, shown in health.
        app.state.supervisor = supervisor = Supervisor()
        lock = ExecutorLock(settings.data_dir / EXECUTOR_LOCK_FILE)
        try:
            async with (
                AgentMemory(settings, semantic=settings.semantic_memory) as agent_memory,
                McpProxy(settings, record_log=lambda line: live.append([line])) as mcp_proxy,
                SharedHttpClient() as http_client,
                anyio.create_task_group() as tasks,
            ):
                app.state.memory = agent_memory
                app.state.mcp = mcp_proxy
                await tasks.start(supervisor.keep_running, "log reader", live.run)
                await tasks.start(supervisor.keep_running, "live-stream fan-out", fanout.run)
                if snapshots is not None:
                    await tasks.start(supervisor.keep_running, "snapshots", functools.partial(
                        keep_snapshots, live, snapshots, every_events=settings.snapshot_events,
                        every_s=settings.snapshot_s, applied=live.events_in_snapshot))
                # The executor resumes interrupted runs on start, if this process holds
                # the data directory's executor lock.
                app.state.executor = executor = Executor(
                    live, app.state.datasets, settings, lock=lock, http_client=http_client,
                    leases=run_leases(settings, log))
                await tasks.start(supervisor.keep_running, "executor", executor.run)
                if not lock.held:
                    logger.warning("another process (%s) executes the runs of %s: this server "
                                   "serves reads and records commands for it to carry out",
                                   lock.holder() or "unknown", settings.data_dir)
                if settings.demo:
                    tasks.start_soon(keep_demo_running, executor)
                try:
                    yield
                finally:
                    fanout.close()
                    live.bus.close()
                    tasks.cancel_scope.cancel()
                    if snapshots is not None:
                        await _last_snapshot(live, snapshots)
            await live.log.aclose()
        finally:
            lock.release()

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
        Route("/", DashboardPage(STATIC_DIR).respond, methods=["GET"]),
        Mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR, check_dir=False),
              name="static"),
    ]
    # None of these rewrites a response body: the SSE stream's chunks are written past
    # them, straight to the socket (``web.connections.write_body_now``).
    middleware = [
        # However the app was launched (run.py or a bare uvicorn), it serves beyond
        # loopback only with a token, and only under the names it answers to.
        Middleware(ExposedWithoutToken,
                   open_to_network=bool(settings.token) or settings.allow_unauthenticated),
        Middleware(KnownHostsOnly, bind_host=settings.host, allowed_hosts=settings.allowed_hosts),
        Middleware(PageCors, token=settings.token),
        # Inside CORS, so that a 401 carries CORS headers and preflights never need a token.
        Middleware(BearerTokenAuth, token=settings.token),
        Middleware(LocalPagesOnly, token=settings.token),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.responses = ResponsesAtPosition()
    # Built when first asked for: describing every route costs ~20 ms of CPU, which
    # every start paid (the tests start hundreds of servers; few ask for it).
    app.state.openapi = functools.cache(functools.partial(
        openapi.build_document, routes, title="harness", version=__version__))
    return app
