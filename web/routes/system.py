"""The dashboard's bootstrap and the server's health."""

from __future__ import annotations

import time

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.live import LiveLog
from projections.board import Totals, active_board, totals
from projections.problems import ProblemReport
from projections.queue import QueuedRun
from projections.state import RunSnapshot
from web.api import endpoint
from web.http import live_state, read_model

BOARD_LIMIT = 24


class Bootstrap(msgspec.Struct, rename="camel"):
    active: list[RunSnapshot]
    queue: list[QueuedRun]
    totals: Totals
    position: str


class Subscribers(msgspec.Struct, rename="camel"):
    sse: int
    websocket: int
    bus: int  # every live subscription: the two above, and any not yet streaming
    dropped: int
    websocket_skipped: int  # records a WebSocket backlog could not send (counted problems)


class SideLogs(msgspec.Struct, rename="camel"):
    """The logs beside runs.jsonl: their size and the lines that could not be read."""

    memory_entries: int
    memory_bad_lines: int
    memory_ranker: str
    page_feedback_bad_lines: int


class Health(msgspec.Struct, rename="camel"):
    status: str  # "ok", or "failed" when a task the server needs has stopped (then 503)
    failures: dict[str, str]
    log: str
    position: str
    events_read: int
    duplicates_ignored: int
    problems: dict[str, int]
    recent_problems: list[ProblemReport]
    resets: int
    reader_errors: int  # OS errors met while reading the log, each retried with backoff
    reader_error: str | None  # the last one, while the reader cannot read
    subscribers: Subscribers
    side_logs: SideLogs
    uptime_s: float


@endpoint(summary="The dashboard's bootstrap: active board, queue, totals, position",
          tag="system", response=Bootstrap, cacheable=True)
async def bootstrap(request: Request) -> Response:
    live: LiveLog = request.app.state.live
    body = Bootstrap(active_board(live.models, limit=BOARD_LIMIT), live.models.queue.items(),
                     totals(live.models), str(live.position))
    return read_model(request, body, position=live.position)


@endpoint(summary="Status, log position, problem counts, subscribers, uptime", tag="system",
          response=Health, statuses=(200, 503), cacheable=True)
async def health(request: Request) -> Response:
    live: LiveLog = request.app.state.live
    streams = request.app.state.streams
    models = live.models
    failures = dict(request.app.state.failures)
    if live.reader_error is not None:  # retried with backoff; shown while it lasts
        failures.setdefault("log reader", live.reader_error)
    bus = live.bus.statistics()
    memory = request.app.state.memory.statistics()
    body = Health(
        status="failed" if failures else "ok",
        failures=failures,
        log=live.log.name,
        position=str(live.position),
        events_read=models.events_applied,
        duplicates_ignored=models.duplicates_ignored,
        problems=dict(models.problems.counts),
        recent_problems=list(models.problems.recent),
        resets=live.resets,
        reader_errors=live.reader_errors,
        reader_error=live.reader_error,
        subscribers=Subscribers(streams.sse, streams.websocket, bus.subscribers, bus.dropped,
                                streams.websocket_skipped),
        side_logs=SideLogs(memory.entries, memory.bad_lines, memory.ranker,
                           request.app.state.page_feedback.skipped_lines),
        uptime_s=round(time.monotonic() - request.app.state.started_at, 3),
    )
    response = live_state(request, body, position=live.position)
    if failures:
        response.status_code = 503
    return response


routes = [
    Route("/api/data", bootstrap, methods=["GET"]),
    Route("/api/health", health, methods=["GET"]),
]
