"""Time travel over one run: ``?at=<cursor or RFC 3339 time>`` on the run's read routes
resolves here, and ``/api/runs/{id}/history`` names each of the run's events in order,
so a page can step through them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.position import CursorRefused, Position, judge_cursor
from harness.errors import Invalid, NotFound
from harness.live import LiveLog
from harness.time_travel import run_as_of
from projections.state import RunRecord
from web.api import endpoint
from web.details import with_details
from web.http import read_model


def live_of(request: Request) -> LiveLog:
    return request.app.state.live


def current_record(live: LiveLog, run_id: str) -> RunRecord:
    record = live.models.runs.runs.get(run_id)
    if record is None:
        raise NotFound("run", run_id)
    return record


async def record_at(request: Request, at: str | None) -> tuple[LiveLog, RunRecord]:
    """The live log and the run the path names, with its details: as it is, or as it
    was ``at``."""
    live = live_of(request)
    record = current_record(live, request.path_params["run_id"])
    if at is None:
        return live, (await with_details(live, [record]))[0]
    until, moment = _point(at, live.position)
    past = await run_as_of(live.log, record, generation=live.position.generation,
                           until=until, at=moment)
    if past is None:
        raise NotFound("run at that point", f"{record.info.id}@{at}")
    return live, past


def _point(text: str, now: Position) -> tuple[int | None, datetime | None]:
    if ":" in text and "T" not in text:
        try:
            return judge_cursor(text, now).offset, None
        except CursorRefused as error:
            raise Invalid(str(error), details={"in": "query", "field": "at",
                                               "reason": error.reason}) from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid(f"at must be a cursor or an RFC 3339 time with a zone, got {text!r}",
                      details={"in": "query", "field": "at"})
    return None, moment


class HistoryQuery(msgspec.Struct, rename="camel"):
    index: Annotated[int, Meta(ge=0)] = 0


class HistoryStep(msgspec.Struct, rename="camel"):
    """The run's ``index``-th event (from 0) of ``count``, and the cursor just after it."""

    run_id: str
    count: int
    index: int
    position: str
    event: dict[str, Any]


_decode = msgspec.json.Decoder(dict[str, Any]).decode


@endpoint(summary="One event of a run's history, by its index, with the cursor after it",
          tag="runs", query=HistoryQuery, response=HistoryStep, errors=(404,),
          cacheable=True)
async def history(request: Request, query: HistoryQuery) -> Response:
    live = live_of(request)
    record = current_record(live, request.path_params["run_id"])
    count = len(record.positions)
    if query.index >= count:
        raise NotFound("event", f"{record.info.id}#{query.index}")
    position = Position(live.position.generation, record.positions[query.index])
    raw = (await live.log.read_at([position]))[0]
    if raw is None:
        raise NotFound("event", f"{record.info.id}#{query.index}")
    step = HistoryStep(record.info.id, count, query.index, str(position), _decode(raw))
    return read_model(request, step, position=live.position)


routes = [Route("/api/runs/{run_id}/history", history, methods=["GET"])]
