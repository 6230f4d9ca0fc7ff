"""The HTTP API's request bodies, query strings and responses that no fold produces.

One declaration each, imported by the routes that validate and encode with them and by
``harness.client`` that sends and decodes with them, so the two cannot drift. The read
models the folds produce live beside their folds (``projections/``); everything here is
plain msgspec types, so importing it pulls in no server code.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from events.schema import MAX_ITEMS
from harness.datasets import DatasetName
from harness.packs import Capture, Pack
from harness.page_feedback import Comment
from projections.archive import SORTS
from projections.board import Totals
from projections.item_table import SORT_KEYS
from projections.items import LEVELS
from projections.problems import ProblemReport
from projections.queue import QueuedRun
from projections.state import ITEM_STATES, Item, LogEntry, RunSnapshot

PROVIDER_NAMES: tuple[str, ...] = ("openai", "simulated")
DEFAULT_CONCURRENCY = 4

Name = Annotated[str, Meta(min_length=1, max_length=200)]


def _any_case(word: str) -> str:
    """A regex for ``word`` in any letter case that JSON Schema (ECMA) can read too."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


ProviderName = Annotated[str, Meta(
    pattern="^(" + "|".join(_any_case(name) for name in PROVIDER_NAMES) + ")$",
    description="one of the providers, in any letter case: " + ", ".join(PROVIDER_NAMES))]


# -- commands ----------------------------------------------------------------------


class RunSpec(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """The body of ``POST /api/runs`` and ``POST /api/queue``.

    ``limit`` caps the number of items (the first ``limit`` of the dataset; a limit above
    the dataset's size runs all of it); ``concurrency`` is how many items are in flight
    at once.
    """

    provider_name: ProviderName
    model_name: Name
    dataset_name: DatasetName
    limit: Annotated[int, Meta(ge=1, le=MAX_ITEMS)] | None = None
    concurrency: Annotated[int, Meta(ge=1, le=64)] = DEFAULT_CONCURRENCY
    labels: dict[str, str] = {}
    config: dict[str, Any] = {}


class QueueListing(msgspec.Struct, rename="camel"):
    queue: list[QueuedRun]


class RunFeedback(msgspec.Struct, rename="camel", kw_only=True):
    run_id: Annotated[str, Meta(min_length=1)]
    rating: Literal["up", "down"]
    comment: Comment | None = None


class PackRequest(msgspec.Struct, rename="camel", kw_only=True):
    dataset_name: DatasetName
    model_name: Name
    provider_name: Name = "browser"
    limit: Annotated[int, Meta(ge=1, le=10_000)] | None = None


class ImportRequest(msgspec.Struct, rename="camel", kw_only=True):
    pack: Pack
    captures: list[Capture]


# -- reads -------------------------------------------------------------------------


RunStatusName = Literal["pending", "running", "completed", "failed", "canceled"]

AT_DESCRIPTION = ("a cursor (`X-Harness-Position`, or a `position` from `/history`) or an "
                  "RFC 3339 time: the run as it was at that point of the log")
At = Annotated[str, Meta(max_length=80, description=AT_DESCRIPTION)]

Moment = Annotated[str, Meta(
    pattern=(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
             r"(Z|[+-][0-9]{2}:[0-9]{2})$"),
    description="an RFC 3339 time with its zone")]



class ActiveQuery(msgspec.Struct, rename="camel"):
    limit: Annotated[int, Meta(ge=1, le=24)] = 12


class ArchiveQuery(msgspec.Struct, rename="camel"):
    comma_separated: ClassVar[frozenset[str]] = frozenset({"status"})

    status: list[RunStatusName] = []
    model: str | None = None
    dataset: str | None = None
    provider: str | None = None
    label: list[Annotated[str, Meta(pattern=r"^[^:]+:.*$")]] = []
    q: str | None = None
    created_from: Moment | None = msgspec.field(default=None, name="from")
    created_to: Moment | None = msgspec.field(default=None, name="to")
    sort: Literal[tuple(SORTS)] = "created"  # type: ignore[valid-type]
    desc: bool = True
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    cursor: Annotated[str, Meta(pattern=r"^r[0-9]{1,9}$")] | None = None


class AtQuery(msgspec.Struct, rename="camel"):
    at: At | None = None


class ItemsQuery(msgspec.Struct, rename="camel"):
    comma_separated: ClassVar[frozenset[str]] = frozenset({"state"})

    at: At | None = None
    state: list[Literal[ITEM_STATES]] = []  # type: ignore[valid-type]
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200
    cursor: Annotated[str, Meta(pattern=r"^[0-9]{1,9}$")] | None = None


Bound = Annotated[float, Meta(ge=0, le=1e12)]
ColumnValue = Annotated[str, Meta(min_length=1, max_length=200,
                                  description="the whole value, in any letter case")]


class TableQuery(msgspec.Struct, rename="camel"):
    """``scoreMin``..``scoreMax`` and the other bounds are inclusive (a minimum above
    its maximum matches nothing); a column filter leaves out the items with no value in
    that column."""

    comma_separated: ClassVar[frozenset[str]] = frozenset({"state"})

    at: At | None = None
    state: list[Literal[ITEM_STATES]] = []  # type: ignore[valid-type]
    q: Annotated[str, Meta(max_length=500)] | None = None
    answer: ColumnValue | None = None
    expected: ColumnValue | None = None
    score_min: Annotated[float, Meta(ge=-1e12, le=1e12)] | None = None
    score_max: Annotated[float, Meta(ge=-1e12, le=1e12)] | None = None
    latency_min: Bound | None = None  # milliseconds
    latency_max: Bound | None = None
    tokens_min: Bound | None = None
    tokens_max: Bound | None = None
    attempts_min: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    sort: Literal[tuple(SORT_KEYS)] = "sequence"  # type: ignore[valid-type]
    desc: bool = False
    offset: Annotated[int, Meta(ge=0)] = 0
    limit: Annotated[int, Meta(ge=1, le=500)] = 50


class LogsQuery(msgspec.Struct, rename="camel"):
    at: At | None = None
    level: Literal[LEVELS] | None = None  # type: ignore[valid-type]
    after: Annotated[int, Meta(ge=0)] = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 200


class CompareQuery(msgspec.Struct, rename="camel"):
    comma_separated: ClassVar[frozenset[str]] = frozenset({"ids"})

    ids: Annotated[list[Annotated[str, Meta(pattern=r"^[^,]+$")]],
                   Meta(min_length=2, max_length=8, extra_json_schema={"uniqueItems": True})]
    baseline: str | None = None


class ExportQuery(msgspec.Struct, rename="camel"):
    format: Literal["csv", "jsonl"] = "jsonl"


class RunDetail(RunSnapshot):
    config: dict[str, Any]
    counts: dict[str, int]


class ItemDetail(msgspec.Struct, rename="camel"):
    """One item whole, with the run's log lines about it and the MCP tool calls the
    run recorded (the proxy logs each as ``mcp server.tool → outcome``)."""

    run_id: str
    item: Item
    logs: list[LogEntry]
    tool_calls: list[LogEntry]



BOARD_LIMIT = 24  # runs on the board of GET /api/data


class Bootstrap(msgspec.Struct, rename="camel"):
    """``GET /api/data``: the dashboard's first paint."""

    active: list[RunSnapshot]
    queue: list[QueuedRun]
    totals: Totals
    position: str


class TaskHealth(msgspec.Struct, rename="camel"):
    """What health shows of one supervised task.

    ``failure`` is why it is down right now (``None`` while it runs); ``last_failure``
    stays after it recovered; ``restarts`` counts every start after the first.
    """

    restarts: int = 0
    failure: str | None = None
    last_failure: str | None = None


class ExecutorStatus(msgspec.Struct, rename="camel"):
    """What health shows of execution: whether this process executes the data
    directory's runs, who does if not, and the runs waiting for the log to take writes."""

    executing: bool
    lock_holder: str | None
    waiting_to_write: dict[str, str]


class Subscribers(msgspec.Struct, rename="camel"):
    sse: int
    websocket: int
    bus: int  # every live subscription: the two above, and any not yet streaming
    dropped: int
    websocket_skipped: int  # records a WebSocket backlog could not send (counted problems)
    sse_cut_short: int  # SSE openings ended early: a run could not be read back (resumed)


class SideLogs(msgspec.Struct, rename="camel"):
    """The logs beside runs.jsonl: their size and the lines that could not be read."""

    memory_entries: int
    memory_bad_lines: int
    memory_ranker: str
    page_feedback_bad_lines: int


class Connections(msgspec.Struct, rename="camel"):
    """Connections and file descriptors against their limits. ``open`` and ``limit`` are
    known when the server runs with ``web.connections``' protocol (run.py does)."""

    open: int | None
    limit: int | None
    files_open: int
    files_limit: int | None


class LogConnection(msgspec.Struct, rename="camel"):
    """A networked log's connection (JetStream): up or down, and its outages."""

    connected: bool
    outages: int  # disconnections since start-up
    down_since: str | None  # RFC 3339, while an outage lasts
    last_outage_s: float | None  # how long the last finished one lasted
    last_error: str | None


class Health(msgspec.Struct, rename="camel"):
    # "ok"; "failed" while a task the server needs is down (then 503; the log reader is
    # one while it cannot read); "degraded" while the log's server is away but nothing
    # has failed yet (the connection comes back by itself)
    status: str
    failures: dict[str, str]  # the tasks down right now, and why (they are being restarted)
    tasks: dict[str, TaskHealth]  # every supervised task: restarts, current and last failure
    executor: ExecutorStatus
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
    connections: Connections
    side_logs: SideLogs
    uptime_s: float
    log_connection: LogConnection | None  # null for the file log
