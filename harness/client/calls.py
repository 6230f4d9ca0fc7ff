"""Every route of the API as a typed request: what to send and what type comes back.

Each function here builds a ``Call``; ``Harness`` and ``AsyncHarness`` send it, so the
sync and async clients share one description of the API. Query strings are built from
the server's own query structs and bodies are the server's own body structs, so a field
renamed on one side and not the other fails the client's tests.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from harness.api_shapes import (
    ActiveQuery,
    ArchiveQuery,
    Bootstrap,
    CompareQuery,
    ExportQuery,
    Health,
    ImportRequest,
    ItemsQuery,
    LogsQuery,
    PackRequest,
    QueueListing,
    RunDetail,
    RunFeedback,
    RunSpec,
)
from harness.client.errors import ApiError
from harness.datasets import DatasetInfo
from harness.memory import MemoryEntry, MemoryQuery, MemoryResults, NewMemory
from harness.packs import Capture, Pack
from projections.archive import ArchivePage
from projections.compare import Comparison
from projections.items import ItemsPage, LogPage
from projections.queue import QueuedRun
from projections.state import RunSnapshot

T = TypeVar("T")
Params = tuple[tuple[str, str], ...]


@functools.cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request and how to read its answer.

    ``result`` is the type the success body decodes to (``bytes`` for a download, ``None``
    for no body); ``ok`` are the statuses that are not errors.
    """

    method: str
    path: str
    result: Any
    params: Params = ()
    body: Any = None
    ok: tuple[int, ...] = (200, 201)

    def content(self) -> bytes | None:
        return None if self.body is None else msgspec.json.encode(self.body)

    def read(self, response: httpx.Response) -> T:
        if response.status_code not in self.ok:
            raise ApiError.from_response(response)
        if self.result is None:
            return None  # type: ignore[return-value]
        if self.result is bytes:
            return response.content  # type: ignore[return-value]
        return _decoder(self.result).decode(response.content)


def _query(struct: msgspec.Struct) -> Params:
    """A query struct as URL parameters: lists repeated, unset values left out."""
    params: list[tuple[str, str]] = []
    for name, value in msgspec.to_builtins(struct).items():
        values = value if isinstance(value, list) else [value]
        params.extend((name, str(v).lower() if isinstance(v, bool) else str(v))
                      for v in values if v is not None)
    return tuple(params)


def _run(run_id: str, tail: str = "") -> str:
    # A run id from another writer may be any text.
    return f"/api/runs/{quote(run_id, safe='')}{tail}"


# -- reads ---------------------------------------------------------------------------


def data() -> Call[Bootstrap]:
    """The dashboard's bootstrap: the board, the queue, totals and the log position."""
    return Call("GET", "/api/data", Bootstrap)


def board(*, limit: int = 12) -> Call[list[RunSnapshot]]:
    """Snapshots of the active runs, newest first, then the most recently finished."""
    return Call("GET", "/api/runs/active", list[RunSnapshot], _query(ActiveQuery(limit)))


def archive(*, status: Iterable[str] = (), model: str | None = None,
            dataset: str | None = None, provider: str | None = None,
            labels: Mapping[str, str] | None = None, q: str | None = None, limit: int = 50,
            cursor: str | None = None) -> Call[ArchivePage]:
    """One page of the archive, newest first; ``nextCursor`` names the next page."""
    query = ArchiveQuery(status=list(status), model=model, dataset=dataset,  # type: ignore[arg-type]
                         provider=provider, q=q, limit=limit, cursor=cursor,
                         label=[f"{key}:{value}" for key, value in (labels or {}).items()])
    return Call("GET", "/api/runs", ArchivePage, _query(query))


def run(run_id: str) -> Call[RunDetail]:
    """One run: its snapshot, config, feedback and per-state counts."""
    return Call("GET", _run(run_id), RunDetail)


def items(run_id: str, *, state: Iterable[str] = (), limit: int = 200,
          cursor: str | None = None) -> Call[ItemsPage]:
    """A page of the run's items, grouped by state."""
    query = ItemsQuery(state=list(state), limit=limit, cursor=cursor)
    return Call("GET", _run(run_id, "/items"), ItemsPage, _query(query))


def logs(run_id: str, *, level: str | None = None, after: int = 0,
         limit: int = 200) -> Call[LogPage]:
    """The run's log lines and lifecycle events after index ``after``."""
    query = LogsQuery(level=level, after=after, limit=limit)
    return Call("GET", _run(run_id, "/logs"), LogPage, _query(query))


def compare(*run_ids: str) -> Call[Comparison]:
    """Accuracy side by side, and the items the runs disagree on (2 to 8 runs)."""
    return Call("GET", "/api/runs/compare", Comparison, _query(CompareQuery(list(run_ids))))


def export(run_id: str, *, format: Literal["csv", "jsonl"] = "jsonl") -> Call[bytes]:
    """The run's items as a CSV or JSONL file's bytes."""
    return Call("GET", _run(run_id, "/export"), bytes, _query(ExportQuery(format)))


def datasets() -> Call[list[DatasetInfo]]:
    """The built-in and user datasets with their sizes."""
    return Call("GET", "/api/datasets", list[DatasetInfo])


def health() -> Call[Health]:
    """Status, log position, problem counts, subscribers; ``status`` is ``failed``
    (and the HTTP status 503) when a task the server needs has stopped."""
    return Call("GET", "/api/health", Health, ok=(200, 503))


def memory(*, q: str | None = None, tag: str | None = None, run_id: str | None = None,
           limit: int = 50) -> Call[MemoryResults]:
    """Memory entries newest first, or ranked by relevance to ``q``."""
    query = MemoryQuery(q=q, tag=tag, run_id=run_id, limit=limit)
    return Call("GET", "/api/memory", MemoryResults, _query(query))


def queue() -> Call[QueueListing]:
    """The run specs waiting for a free slot, in order."""
    return Call("GET", "/api/queue", QueueListing)


# -- commands ------------------------------------------------------------------------


def create_run(spec: RunSpec | None = None, /, **fields: Any) -> Call[RunSnapshot]:
    """Create a run and dispatch it now: a ``RunSpec``, or its fields as keywords
    (``provider_name``, ``model_name``, ``dataset_name``, ``limit``, ``concurrency``,
    ``labels``, ``config``)."""
    return Call("POST", "/api/runs", RunSnapshot, body=spec or RunSpec(**fields), ok=(201,))


def cancel(run_id: str) -> Call[RunSnapshot]:
    """Cancel a pending or running run; answers with its snapshot once it has ended."""
    return Call("POST", _run(run_id, "/cancel"), RunSnapshot)


def retry(run_id: str) -> Call[RunSnapshot]:
    """Run a finished run's faulted and unfinished items again."""
    return Call("POST", _run(run_id, "/retry"), RunSnapshot)


def enqueue(spec: RunSpec | None = None, /, **fields: Any) -> Call[QueuedRun]:
    """Queue a run spec (as ``create_run`` takes it); it starts when a slot is free."""
    return Call("POST", "/api/queue", QueuedRun, body=spec or RunSpec(**fields), ok=(201,))


def remove_queued(queue_id: str) -> Call[None]:
    """Remove a queued run spec."""
    return Call("DELETE", f"/api/queue/{quote(queue_id, safe='')}", None, ok=(204,))


def feedback(run_id: str, rating: Literal["up", "down"], *,
             comment: str | None = None) -> Call[RunFeedback]:
    """Rate a run up or down, with an optional comment."""
    body = RunFeedback(run_id=run_id, rating=rating, comment=comment)
    return Call("POST", "/api/feedback", RunFeedback, body=body, ok=(201,))


def add_memory(text: str, *, tags: Iterable[str] = (), run_id: str | None = None
               ) -> Call[MemoryEntry]:
    """Record a memory entry."""
    body = NewMemory(text=text, tags=list(tags), run_id=run_id)
    return Call("POST", "/api/memory", MemoryEntry, body=body, ok=(201,))


def create_pack(dataset_name: str, model_name: str, *, provider_name: str = "browser",
                limit: int | None = None) -> Call[Pack]:
    """A signed Browser Harness pack of the dataset's prompts."""
    body = PackRequest(dataset_name=dataset_name, model_name=model_name,
                       provider_name=provider_name, limit=limit)
    return Call("POST", "/api/browser-harness/packs", Pack, body=body, ok=(201,))


def import_captures(pack: Pack, captures: Iterable[Capture]) -> Call[RunSnapshot]:
    """Import a pack's captured answers as a judged run (the same import twice gives
    the same run)."""
    body = ImportRequest(pack=pack, captures=list(captures))
    return Call("POST", "/api/browser-harness/imports", RunSnapshot, body=body, ok=(200, 201))
