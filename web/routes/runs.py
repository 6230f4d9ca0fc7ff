"""Read routes over runs: the board, the archive, one run, its items, logs and exports."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import quote

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.errors import Invalid, NotFound
from harness.live import LiveLog
from projections.archive import ArchiveFilter, ArchivePage, archive_page
from projections.board import active_board
from projections.compare import Comparison, DatasetsDiffer, compare
from projections.items import (
    LEVELS,
    ItemsPage,
    LogPage,
    export_csv,
    export_jsonl,
    items_page,
    log_page,
)
from projections.state import ITEM_STATES, RunRecord, RunSnapshot
from web.api import endpoint
from web.http import read_model


class ActiveQuery(msgspec.Struct, rename="camel"):
    limit: Annotated[int, Meta(ge=1, le=24)] = 12


class ArchiveQuery(msgspec.Struct, rename="camel"):
    comma_separated: ClassVar[frozenset[str]] = frozenset({"status"})

    status: list[Literal["pending", "running", "completed", "failed", "canceled"]] = []
    model: str | None = None
    dataset: str | None = None
    provider: str | None = None
    label: list[Annotated[str, Meta(pattern=r"^[^:]+:.*$")]] = []
    q: str | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    cursor: Annotated[str, Meta(pattern=r"^r[0-9]{1,9}$")] | None = None


class ItemsQuery(msgspec.Struct, rename="camel"):
    comma_separated: ClassVar[frozenset[str]] = frozenset({"state"})

    state: list[Literal[ITEM_STATES]] = []  # type: ignore[valid-type]
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200
    cursor: Annotated[str, Meta(pattern=r"^[0-9]{1,9}$")] | None = None


class LogsQuery(msgspec.Struct, rename="camel"):
    level: Literal[LEVELS] | None = None  # type: ignore[valid-type]
    after: Annotated[int, Meta(ge=0)] = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200


class CompareQuery(msgspec.Struct, rename="camel"):
    comma_separated: ClassVar[frozenset[str]] = frozenset({"ids"})

    ids: Annotated[list[Annotated[str, Meta(pattern=r"^[^,]+$")]],
                   Meta(min_length=2, max_length=8, extra_json_schema={"uniqueItems": True})]


class ExportQuery(msgspec.Struct, rename="camel"):
    format: Literal["csv", "jsonl"] = "jsonl"


class RunDetail(RunSnapshot):
    config: dict[str, Any]
    counts: dict[str, int]


def attachment(filename: str) -> str:
    """A Content-Disposition for any file name (RFC 6266): an ASCII stand-in, and the
    real name percent-encoded, since a run id from another writer may be any text."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _live(request: Request) -> LiveLog:
    return request.app.state.live


def _record(live: LiveLog, run_id: str) -> RunRecord:
    record = live.models.runs.runs.get(run_id)
    if record is None:
        raise NotFound("run", run_id)
    return record


@endpoint(summary="Snapshots of active runs, then the most recently finished", tag="runs",
          query=ActiveQuery, response=list[RunSnapshot], cacheable=True, per_position=True)
async def active_runs(request: Request, query: ActiveQuery) -> Response:
    live = _live(request)
    return read_model(request, active_board(live.models, limit=query.limit),
                      position=live.position)


@endpoint(summary="The archive: run summaries, newest first, filtered and paged", tag="runs",
          query=ArchiveQuery, response=ArchivePage, cacheable=True, per_position=True)
async def archive(request: Request, query: ArchiveQuery) -> Response:
    where = ArchiveFilter(
        status=frozenset(query.status), model=query.model, dataset=query.dataset,
        provider=query.provider, text=query.q or None,
        labels=tuple(tuple(label.split(":", 1)) for label in query.label),  # type: ignore[misc]
    )
    live = _live(request)
    page = archive_page(live.models, where, limit=query.limit, cursor=query.cursor)
    return read_model(request, page, position=live.position)


@endpoint(summary="One run: its snapshot, config, feedback and per-state counts", tag="runs",
          response=RunDetail, cacheable=True, per_position=True)
async def run_detail(request: Request) -> Response:
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    snapshot = record.snapshot()
    detail = RunDetail(**{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
                       config=record.config, counts=record.state_counts())
    return read_model(request, detail, position=live.position)


@endpoint(summary="A run's items grouped by state", tag="runs", query=ItemsQuery,
          response=ItemsPage, cacheable=True, per_position=True)
async def run_items(request: Request, query: ItemsQuery) -> Response:
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    page = items_page(record, states=frozenset(query.state), limit=query.limit,
                      after=int(query.cursor or 0))
    return read_model(request, page, position=live.position)


@endpoint(summary="A run's log lines and lifecycle events, in order", tag="runs",
          query=LogsQuery, response=LogPage, cacheable=True, per_position=True)
async def run_logs(request: Request, query: LogsQuery) -> Response:
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    page = log_page(record, level=query.level, after=query.after, limit=query.limit)
    return read_model(request, page, position=live.position)


@endpoint(summary="Accuracy side by side and the items the runs disagree on", tag="runs",
          query=CompareQuery, response=Comparison, errors=(404,), cacheable=True,
          per_position=True)
async def compare_runs(request: Request, query: CompareQuery) -> Response:
    if len(set(query.ids)) != len(query.ids):
        raise Invalid("ids must not repeat a run", details={"in": "query", "field": "ids"})
    live = _live(request)
    records = [_record(live, run_id) for run_id in query.ids]
    try:
        comparison = compare(records)
    except DatasetsDiffer as differ:
        raise Invalid(str(differ), details={"datasets": differ.datasets}) from None
    return read_model(request, comparison, position=live.position)


@endpoint(summary="The run's items as a CSV or JSONL download", tag="runs",
          query=ExportQuery, media_type="application/x-ndjson", cacheable=True,
          per_position=True)
async def export_items(request: Request, query: ExportQuery) -> Response:
    live = _live(request)
    record = _record(live, request.path_params["run_id"])
    if query.format == "csv":
        render, media = lambda: export_csv(record).encode(), "text/csv; charset=utf-8"
    else:
        render, media = lambda: export_jsonl(record), "application/x-ndjson"
    disposition = attachment(f"{record.info.id}.{query.format}")
    return read_model(request, None, position=live.position, render=render, media_type=media,
                      headers={"Content-Disposition": disposition})


routes = [
    Route("/api/runs/active", active_runs, methods=["GET"]),
    Route("/api/runs/compare", compare_runs, methods=["GET"]),
    Route("/api/runs", archive, methods=["GET"]),
    Route("/api/runs/{run_id}", run_detail, methods=["GET"]),
    Route("/api/runs/{run_id}/items", run_items, methods=["GET"]),
    Route("/api/runs/{run_id}/logs", run_logs, methods=["GET"]),
    Route("/api/runs/{run_id}/export", export_items, methods=["GET"]),
]
