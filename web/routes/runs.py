"""Read routes over runs: the board, the archive, one run, its items, logs and exports."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.errors import Invalid, NotFound
from harness.live import LiveLog
from projections.archive import ArchiveFilter, archive_page
from projections.board import active_board
from projections.compare import compare
from projections.items import LEVELS, export_csv, export_jsonl, items_page, log_page
from projections.state import ITEM_STATES, RunRecord, RunSnapshot
from web.http import parse_query, read_model


class ActiveQuery(msgspec.Struct, rename="camel"):
    limit: Annotated[int, Meta(ge=1, le=24)] = 12


class ArchiveQuery(msgspec.Struct, rename="camel"):
    status: list[Literal["pending", "running", "completed", "failed", "canceled"]] = []
    model: str | None = None
    dataset: str | None = None
    provider: str | None = None
    label: list[Annotated[str, Meta(pattern=r"^[^:]+:.*$")]] = []
    q: str | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    cursor: str | None = None


class ItemsQuery(msgspec.Struct, rename="camel"):
    state: list[Literal[ITEM_STATES]] = []  # type: ignore[valid-type]
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200
    cursor: Annotated[str, Meta(pattern=r"^[0-9]{1,9}$")] | None = None


class LogsQuery(msgspec.Struct, rename="camel"):
    level: Literal[LEVELS] | None = None  # type: ignore[valid-type]
    after: Annotated[int, Meta(ge=0)] = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200


class CompareQuery(msgspec.Struct, rename="camel"):
    ids: Annotated[list[str], Meta(min_length=2, max_length=8)]


class ExportQuery(msgspec.Struct, rename="camel"):
    format: Literal["csv", "jsonl"] = "jsonl"


class RunDetail(RunSnapshot):
    config: dict[str, object]
    counts: dict[str, int]


def _live(request: Request) -> LiveLog:
    return request.app.state.live


def _record(live: LiveLog, run_id: str) -> RunRecord:
    record = live.models.runs.runs.get(run_id)
    if record is None:
        raise NotFound("run", run_id)
    return record


async def active_runs(request: Request) -> Response:
    query = parse_query(request, ActiveQuery)
    live = _live(request)
    return read_model(request, active_board(live.models, limit=query.limit),
                      position=live.position)


async def archive(request: Request) -> Response:
    query = parse_query(request, ArchiveQuery)
    where = ArchiveFilter(
        status=frozenset(query.status), model=query.model, dataset=query.dataset,
        provider=query.provider, text=query.q or None,
        labels=tuple(tuple(label.split(":", 1)) for label in query.label),  # type: ignore[misc]
    )
    live = _live(request)
    page = archive_page(live.models, where, limit=query.limit, cursor=query.cursor)
    return read_model(request, page, position=live.position)


async def run_detail(request: Request) -> Response:
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    snapshot = record.snapshot()
    detail = RunDetail(**{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
                       config=record.config, counts=record.state_counts())
    return read_model(request, detail, position=live.position)


async def run_items(request: Request) -> Response:
    query = parse_query(request, ItemsQuery)
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    page = items_page(record, states=frozenset(query.state), limit=query.limit,
                      after=int(query.cursor or 0))
    return read_model(request, page, position=live.position)


async def run_logs(request: Request) -> Response:
    query = parse_query(request, LogsQuery)
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    page = log_page(record, level=query.level, after=query.after, limit=query.limit)
    return read_model(request, page, position=live.position)


async def compare_runs(request: Request) -> Response:
    query = parse_query(request, CompareQuery)
    if len(set(query.ids)) != len(query.ids):
        raise Invalid("ids must not repeat a run", details={"in": "query", "field": "ids"})
    live = _live(request)
    records = [_record(live, run_id) for run_id in query.ids]
    return read_model(request, compare(records), position=live.position)


async def export_items(request: Request) -> Response:
    query = parse_query(request, ExportQuery)
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    if query.format == "csv":
        body: bytes | str = export_csv(record)
        media = "text/csv; charset=utf-8"
    else:
        body, media = export_jsonl(record), "application/x-ndjson"
    filename = f"{record.info.id}.{query.format}"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Harness-Position": str(live.position),
    })


routes = [
    Route("/api/runs/active", active_runs, methods=["GET"]),
    Route("/api/runs/compare", compare_runs, methods=["GET"]),
    Route("/api/runs", archive, methods=["GET"]),
    Route("/api/runs/{run_id}", run_detail, methods=["GET"]),
    Route("/api/runs/{run_id}/items", run_items, methods=["GET"]),
    Route("/api/runs/{run_id}/logs", run_logs, methods=["GET"]),
    Route("/api/runs/{run_id}/export", export_items, methods=["GET"]),
]
