"""Read routes over runs: the board, the archive, one run, its items, logs and exports."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.api_shapes import (
    ActiveQuery,
    ArchiveQuery,
    AtQuery,
    CompareQuery,
    ExportQuery,
    ItemDetail,
    ItemsQuery,
    LogsQuery,
    RunDetail,
    TableQuery,
)
from harness.errors import Invalid, NotFound
from harness.prices import PriceBook
from projections.archive import (
    ArchiveFacets,
    ArchiveFilter,
    ArchivePage,
    archive_facets,
    archive_page,
)
from projections.compare import Comparison, DatasetsDiffer, compare
from projections.item_table import ColumnFilter, ItemTable, item_table
from projections.items import (
    ItemsPage,
    LogPage,
    export_csv,
    export_jsonl,
    items_page,
    log_page,
)
from projections.run_stats import RunStats, run_stats
from projections.state import RunSnapshot
from web.api import endpoint
from web.details import board, with_details
from web.http import read_model
from web.routes.replay import current_record, live_of, record_at


def moment(text: str | None, field: str) -> datetime | None:
    """An RFC 3339 time from a query parameter (422 naming ``field`` if no real time)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{field} is not a real time: {text!r}",
                      details={"in": "query", "field": field}) from None


TOOL_CALLS_SHOWN = 50


def attachment(filename: str) -> str:
    """A Content-Disposition for any file name (RFC 6266): an ASCII stand-in, and the
    real name percent-encoded, since a run id from another writer may be any text."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


@endpoint(summary="Snapshots of active runs, then the most recently finished", tag="runs",
          query=ActiveQuery, response=list[RunSnapshot], cacheable=True, per_position=True)
async def active_runs(request: Request, query: ActiveQuery) -> Response:
    live = live_of(request)
    return read_model(request, await board(live, limit=query.limit), position=live.position)


@endpoint(summary="The archive: run summaries, newest first, filtered and paged", tag="runs",
          description="`model`, `dataset` and `provider` match whole names in any letter "
                      "case; `from`/`to` bound the creation time (RFC 3339 with a zone); "
                      "`sort` with `desc` orders the runs, `total` counts all that match.",
          query=ArchiveQuery, response=ArchivePage, cacheable=True, per_position=True)
async def archive(request: Request, query: ArchiveQuery) -> Response:
    where = ArchiveFilter(
        status=frozenset(query.status), model=query.model, dataset=query.dataset,
        provider=query.provider, text=query.q or None,
        labels=tuple(tuple(label.split(":", 1)) for label in query.label),  # type: ignore[misc]
        created_from=moment(query.created_from, "from"),
        created_to=moment(query.created_to, "to"),
    )
    live = live_of(request)
    page = archive_page(live.models, where, limit=query.limit, cursor=query.cursor,
                        sort=query.sort, descending=query.desc)
    return read_model(request, page, position=live.position)


@endpoint(summary="Every model, dataset, provider and label across all runs", tag="runs",
          response=ArchiveFacets, cacheable=True, per_position=True)
async def facets(request: Request) -> Response:
    live = live_of(request)
    return read_model(request, archive_facets(live.models), position=live.position)


@endpoint(summary="One run: its snapshot, config, feedback and per-state counts", tag="runs",
          query=AtQuery, errors=(503,), response=RunDetail, cacheable=True,
          per_position=True)
async def run_detail(request: Request, query: AtQuery) -> Response:
    live, record = await record_at(request, query.at)
    snapshot = record.snapshot()
    detail = RunDetail(**{f: getattr(snapshot, f) for f in snapshot.__struct_fields__},
                       config=record.config, counts=record.state_counts())
    return read_model(request, detail, position=live.position)


@endpoint(summary="A run's items grouped by state", tag="runs", query=ItemsQuery,
          errors=(503,), response=ItemsPage, cacheable=True, per_position=True)
async def run_items(request: Request, query: ItemsQuery) -> Response:
    live, record = await record_at(request, query.at)
    page = items_page(record, states=frozenset(query.state), limit=query.limit,
                      after=int(query.cursor or 0))
    return read_model(request, page, position=live.position)


@endpoint(summary="A run's items as a table: filtered, searched, sorted, one page",
          tag="runs", query=TableQuery, errors=(503,), response=ItemTable, cacheable=True,
          per_position=True,
          description="`q` matches prompt, response and error text, case-insensitively; "
                      "`answer` and `expected` match whole values in any case; the "
                      "`…Min`/`…Max` bounds are inclusive (latency in ms; score is the "
                      "judge's score, else 1 or 0 for right or wrong; a minimum above its "
                      "maximum matches nothing); `attemptsMin=2` keeps retried items. Items "
                      "without a value for `sort` come last.")
async def run_table(request: Request, query: TableQuery) -> Response:
    columns = ColumnFilter(
        answer=query.answer, expected=query.expected,
        score=(query.score_min, query.score_max),
        latency_ms=(query.latency_min, query.latency_max),
        tokens=(query.tokens_min, query.tokens_max),
        min_attempts=query.attempts_min)
    live, record = await record_at(request, query.at)
    table = item_table(record, states=frozenset(query.state), text=query.q or None,
                       columns=columns, sort=query.sort, descending=query.desc, offset=query.offset,
                       limit=query.limit)
    return read_model(request, table, position=live.position)


@endpoint(summary="One item of a run, whole, with the log lines about it", tag="runs",
          query=AtQuery, errors=(503,), response=ItemDetail, cacheable=True, per_position=True)
async def run_item(request: Request, query: AtQuery) -> Response:
    live, record = await record_at(request, query.at)
    text = request.path_params["sequence"]
    sequence = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0
    if not 1 <= sequence <= record.total:
        raise NotFound("item", f"{record.info.id}#{sequence}")
    calls = [entry for entry in record.logs if entry.kind == "log"
             and entry.message.startswith("mcp ")][-TOOL_CALLS_SHOWN:]
    detail = ItemDetail(record.info.id, record.item(sequence),
                        [entry for entry in record.logs if entry.sequence == sequence], calls)
    return read_model(request, detail, position=live.position)


@endpoint(summary="A run's summary figures and chart series", tag="runs",
          description="`cost` is there only when `prices.json` in the data directory "
                      "prices the run's provider/model (read at start-up); "
                      "`costProblem` says why that file could not be read.",
          query=AtQuery, errors=(503,), response=RunStats, cacheable=True, per_position=True)
async def run_summary(request: Request, query: AtQuery) -> Response:
    live, record = await record_at(request, query.at)
    prices: PriceBook = request.app.state.prices
    info = record.info
    stats = run_stats(record, price=prices.price_of(info.provider_name, info.model_name),
                      currency=prices.currency, price_problem=prices.problem)
    return read_model(request, stats, position=live.position)


@endpoint(summary="A run's log lines and lifecycle events, in order", tag="runs",
          query=LogsQuery, errors=(503,), response=LogPage, cacheable=True, per_position=True)
async def run_logs(request: Request, query: LogsQuery) -> Response:
    live, record = await record_at(request, query.at)
    page = log_page(record, level=query.level, after=query.after, limit=query.limit)
    return read_model(request, page, position=live.position)


@endpoint(summary="Accuracy side by side and the items the runs disagree on", tag="runs",
          query=CompareQuery, response=Comparison, errors=(404, 503), cacheable=True,
          per_position=True)
async def compare_runs(request: Request, query: CompareQuery) -> Response:
    if len(set(query.ids)) != len(query.ids):
        raise Invalid("ids must not repeat a run", details={"in": "query", "field": "ids"})
    live = live_of(request)
    records = [current_record(live, run_id) for run_id in query.ids]
    if query.baseline is not None and query.baseline not in query.ids:
        raise Invalid(f"baseline {query.baseline!r} is not one of the compared runs",
                      details={"in": "query", "field": "baseline"})
    records = await with_details(live, records)
    try:
        comparison = compare(records, baseline=query.baseline)
    except DatasetsDiffer as differ:
        raise Invalid(str(differ), details={"datasets": differ.datasets}) from None
    return read_model(request, comparison, position=live.position)


@endpoint(summary="The run's items as a CSV or JSONL download", tag="runs",
          errors=(503,), query=ExportQuery, media_type="application/x-ndjson", cacheable=True,
          per_position=True)
async def export_items(request: Request, query: ExportQuery) -> Response:
    live, record = await record_at(request, None)
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
    Route("/api/runs/facets", facets, methods=["GET"]),
    Route("/api/runs/{run_id}", run_detail, methods=["GET"]),
    Route("/api/runs/{run_id}/items", run_items, methods=["GET"]),
    Route("/api/runs/{run_id}/items/{sequence}", run_item, methods=["GET"]),
    Route("/api/runs/{run_id}/table", run_table, methods=["GET"]),
    Route("/api/runs/{run_id}/stats", run_summary, methods=["GET"]),
    Route("/api/runs/{run_id}/logs", run_logs, methods=["GET"]),
    Route("/api/runs/{run_id}/export", export_items, methods=["GET"]),
]
