"""The dashboard's bootstrap and the server's health."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.writer import format_timestamp
from harness.api_shapes import (
    BOARD_LIMIT,
    Bootstrap,
    Connections,
    Health,
    LogConnection,
    SideLogs,
    Subscribers,
)
from harness.live import LiveLog
from harness.supervisor import Supervisor
from projections.board import totals
from web.api import endpoint
from web.connections import USAGE_EXTENSION, open_files
from web.details import board
from web.http import live_state, read_model


@endpoint(summary="The dashboard's bootstrap: active board, queue, totals, position",
          tag="system", response=Bootstrap, cacheable=True, per_position=True)
async def bootstrap(request: Request) -> Response:
    live: LiveLog = request.app.state.live
    shown = await board(live, limit=BOARD_LIMIT)  # then the rest, with no await between
    body = Bootstrap(shown, live.models.queue.items(), totals(live.models), str(live.position))
    return read_model(request, body, position=live.position)


@endpoint(summary="Status, log position, problem counts, subscribers, uptime", tag="system",
          response=Health, statuses=(200, 503), cacheable=True)
async def health(request: Request) -> Response:
    live: LiveLog = request.app.state.live
    streams = request.app.state.streams
    models = live.models
    supervisor: Supervisor = request.app.state.supervisor
    failures = supervisor.failures
    if live.reader_error is not None:  # retried with backoff; shown while it lasts
        failures.setdefault("log reader", live.reader_error)
    bus = live.bus.statistics()
    memory = request.app.state.memory.statistics()
    connection = log_connection(live)
    status = "failed" if failures else "ok"
    if status == "ok" and connection is not None and not connection.connected:
        status = "degraded"
    body = Health(
        status=status,
        failures=failures,
        tasks=supervisor.health,
        executor=request.app.state.executor.status(),
        log=live.log.name,
        position=str(live.position),
        events_read=models.events_applied,
        duplicates_ignored=models.duplicates_ignored,
        problems=dict(models.problems.counts),
        recent_problems=list(models.problems.recent),
        resets=live.resets,
        reader_errors=live.reader_errors,
        reader_error=live.reader_error,
        subscribers=Subscribers(streams.sse, streams.websocket, bus.subscribers,
                                bus.dropped + request.app.state.fanout.dropped,
                                streams.websocket_skipped, streams.sse_cut_short),
        connections=connection_usage(request),
        side_logs=SideLogs(memory.entries, memory.bad_lines, memory.ranker,
                           request.app.state.page_feedback.skipped_lines),
        uptime_s=round(time.monotonic() - request.app.state.started_at, 3),
        log_connection=connection,
    )
    response = live_state(request, body, position=live.position)
    if failures:
        response.status_code = 503
    return response


def log_connection(live: LiveLog) -> LogConnection | None:
    """The connection state of a log that has one (it offers ``report()``)."""
    report = getattr(live.log, "report", None)
    if report is None:
        return None
    state = report()
    down_since = None
    if state.down_since is not None:
        down_since = format_timestamp(datetime.fromtimestamp(state.down_since, UTC))
    last_outage_s = None if state.last_outage_s is None else round(state.last_outage_s, 3)
    return LogConnection(state.connected, state.outages, down_since, last_outage_s,
                         state.last_error)


def connection_usage(request: Request) -> Connections:
    usage = request.scope.get("extensions", {}).get(USAGE_EXTENSION)
    connections, limit = usage() if usage else (None, None)
    files, files_limit = open_files()
    return Connections(connections, limit, files, files_limit)


routes = [
    Route("/api/data", bootstrap, methods=["GET"]),
    Route("/api/health", health, methods=["GET"]),
]
