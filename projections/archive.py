"""The archive: every run as a summary, filtered, newest first, page by page."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from projections.readmodels import ReadModels
from projections.state import Progress, RunInfo, RunRecord


class RunSummary(msgspec.Struct, rename="camel"):
    run: RunInfo
    progress: Progress
    accuracy: float | None
    duration_ms: int | None


class ArchivePage(msgspec.Struct, rename="camel"):
    runs: list[RunSummary]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class ArchiveFilter:
    """Which runs to list; every given criterion must hold. ``label`` is ``key:value``;
    ``text`` matches the id, model, dataset, provider or a label, case-insensitively."""

    status: frozenset[str] = frozenset()
    model: str | None = None
    dataset: str | None = None
    provider: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    text: str | None = None

    def admits(self, record: RunRecord) -> bool:
        info = record.info
        if self.status and info.status not in self.status:
            return False
        if self.model is not None and info.model_name != self.model:
            return False
        if self.dataset is not None and info.dataset_name != self.dataset:
            return False
        if self.provider is not None and info.provider_name.lower() != self.provider.lower():
            return False
        if any(info.labels.get(key) != value for key, value in self.labels):
            return False
        return self.text is None or self.text.lower() in _haystack(info)


def _haystack(info: RunInfo) -> str:
    parts = [info.id, info.model_name, info.dataset_name, info.provider_name,
             *(f"{k}:{v}" for k, v in info.labels.items())]
    return " ".join(parts).lower()


def summarize(record: RunRecord) -> RunSummary:
    progress = record.progress()
    accuracy = progress.correct / progress.completed if progress.completed else None
    return RunSummary(record.info, progress, accuracy, duration_ms(record.info))


def duration_ms(info: RunInfo) -> int | None:
    if info.started_at is None or info.finished_at is None:
        return None
    return max(0, round((info.finished_at - info.started_at).total_seconds() * 1000))


def archive_page(models: ReadModels, where: ArchiveFilter, *, limit: int,
                 cursor: str | None = None) -> ArchivePage:
    """Runs newest first; ``cursor`` is the ``nextCursor`` of the previous page."""
    order = models.runs.order
    # A cursor past the end (from a log since replaced by a shorter one) starts over.
    start = min(_decode_cursor(cursor), len(order)) if cursor else len(order)
    runs: list[RunSummary] = []
    index = start
    while index > 0 and len(runs) < limit:
        index -= 1
        if where.admits(order[index]):
            runs.append(summarize(order[index]))
    more = index > 0 and len(runs) == limit
    return ArchivePage(runs, f"r{index}" if more else None)


def _decode_cursor(cursor: str) -> int:
    """``r<index>``: the API's query schema answers any other shape with a 422."""
    if not cursor.startswith("r") or not cursor[1:].isdigit():
        raise ValueError(f"malformed archive cursor {cursor!r}")
    return int(cursor[1:])
