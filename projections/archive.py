"""The archive: every run as a summary, filtered, sorted (newest first by default),
page by page, with the total that matched; and the names found across all runs, for
the filters' suggestions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from projections.creation_order import created_key
from projections.readmodels import ReadModels
from projections.run_names import NameKey
from projections.state import ACTIVE_STATUSES, Progress, RunInfo, RunRecord


class RunSummary(msgspec.Struct, rename="camel"):
    """``tokens`` (prompt + completion) and ``latency_mean_ms`` are over the items that
    reported them; ``None`` when none did."""

    run: RunInfo
    progress: Progress
    accuracy: float | None
    duration_ms: int | None
    tokens: int | None = None
    latency_mean_ms: float | None = None


class ArchivePage(msgspec.Struct, rename="camel"):
    runs: list[RunSummary]
    next_cursor: str | None
    total: int  # how many runs match the filter, on every page


class ArchiveFacets(msgspec.Struct, rename="camel"):
    """Every distinct name across all runs, sorted, for filter suggestions."""

    models: list[str]
    datasets: list[str]
    providers: list[str]
    labels: list[str]  # "key:value"


@dataclass(frozen=True, kw_only=True)
class ArchiveFilter:
    """Which runs to list; every given criterion must hold. Names match whole and
    case-insensitively; ``label`` is ``key:value``; ``text`` matches the id, model,
    dataset, provider or a label, case-insensitively; ``created_from``/``created_to``
    bound the creation time (inclusive, exclusive)."""

    status: frozenset[str] = frozenset()
    model: str | None = None
    dataset: str | None = None
    provider: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    text: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    def name_keys(self) -> list[NameKey]:
        """The names a matching run must carry, for ``RunNames``."""
        keys = [(field, name.casefold()) for field, name in (
            ("model", self.model), ("dataset", self.dataset), ("provider", self.provider))
            if name is not None]
        return keys + [("label", f"{key}:{value}") for key, value in self.labels]

    def admits(self, record: RunRecord) -> bool:
        info = record.info
        if self.status and info.status not in self.status:
            return False
        for wanted, name in ((self.model, info.model_name), (self.dataset, info.dataset_name),
                             (self.provider, info.provider_name)):
            if wanted is not None and name.casefold() != wanted.casefold():
                return False
        if any(info.labels.get(key) != value for key, value in self.labels):
            return False
        if self.created_from is not None or self.created_to is not None:
            created = info.created_at
            if created is None:
                return False
            if self.created_from is not None and created < self.created_from:
                return False
            if self.created_to is not None and created >= self.created_to:
                return False
        return self.text is None or self.text.lower() in _haystack(info)


EVERY_RUN = ArchiveFilter()


def _haystack(info: RunInfo) -> str:
    parts = [info.id, info.model_name, info.dataset_name, info.provider_name,
             *(f"{k}:{v}" for k, v in info.labels.items())]
    return " ".join(parts).lower()


def summarize(record: RunRecord) -> RunSummary:
    progress = record.progress()
    accuracy = progress.correct / progress.completed if progress.completed else None
    return RunSummary(record.info, progress, accuracy, duration_ms(record.info),
                      _tokens(record), _latency_mean_ms(record))


def _tokens(record: RunRecord) -> int | None:
    usage = record.usage
    return (usage.prompt_tokens + usage.completion_tokens) or None


def _latency_mean_ms(record: RunRecord) -> float | None:
    usage = record.usage
    return usage.latency_ms_sum / usage.latency_items if usage.latency_items else None


def duration_ms(info: RunInfo) -> int | None:
    if info.started_at is None or info.finished_at is None:
        return None
    return max(0, round((info.finished_at - info.started_at).total_seconds() * 1000))


def _accuracy(record: RunRecord) -> float | None:
    progress = record.progress()
    return progress.correct / progress.completed if progress.completed else None


SORTS: dict[str, Callable[[RunRecord], Any]] = {
    "created": created_key,
    "model": lambda r: r.info.model_name.casefold(),
    "dataset": lambda r: r.info.dataset_name.casefold(),
    "status": lambda r: r.info.status,
    "judged": lambda r: r.progress().completed,
    "accuracy": _accuracy,
    "duration": lambda r: duration_ms(r.info),
    "tokens": _tokens,
    "latency": _latency_mean_ms,
}


def archive_page(models: ReadModels, where: ArchiveFilter, *, limit: int,
                 cursor: str | None = None, sort: str = "created",
                 descending: bool = True) -> ArchivePage:
    """Matching runs ordered by ``sort`` (runs without a value last either way, ties
    newest first); ``cursor`` is the ``nextCursor`` of the previous page."""
    runs = models.runs
    # A cursor past the end (from a log since replaced by a shorter one) gives an empty page.
    start = _decode_cursor(cursor) if cursor else 0
    if sort == "created" and where == EVERY_RUN:
        total = len(runs.order)
        page = runs.created.page(runs.order, start, limit, newest_first=descending)
        return _page_of(page, start, limit, total)
    candidates = runs.names.runs_named(runs.order, where.name_keys())
    if candidates is None and where.status and where.status <= ACTIVE_STATUSES:
        candidates = runs.index.active_runs()
    matched = [record for record in (runs.order if candidates is None else candidates)
               if where.admits(record)]
    key = SORTS[sort]
    if sort == "created":
        matched.sort(key=key, reverse=descending)
    else:
        matched.sort(key=created_key, reverse=True)  # ties: newest first
        known = [r for r in matched if key(r) is not None]
        known.sort(key=key, reverse=descending)
        matched = known + [r for r in matched if key(r) is None]
    return _page_of(matched[start:start + limit], start, limit, len(matched))


def _page_of(page: list[RunRecord], start: int, limit: int, total: int) -> ArchivePage:
    more = start + limit < total
    return ArchivePage([summarize(r) for r in page], f"r{start + limit}" if more else None,
                       total)


def archive_facets(models: ReadModels) -> ArchiveFacets:
    records = models.runs.order
    return ArchiveFacets(
        models=sorted({r.info.model_name for r in records}, key=str.casefold),
        datasets=sorted({r.info.dataset_name for r in records}, key=str.casefold),
        providers=sorted({r.info.provider_name for r in records}, key=str.casefold),
        labels=sorted({f"{k}:{v}" for r in records for k, v in r.info.labels.items()}),
    )


def _decode_cursor(cursor: str) -> int:
    """``r<index>``: the API's query schema answers any other shape with a 422."""
    if not cursor.startswith("r") or not cursor[1:].isdigit():
        raise ValueError(f"malformed archive cursor {cursor!r}")
    return int(cursor[1:])
