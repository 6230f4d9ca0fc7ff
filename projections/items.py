"""One run's items grouped by state, its log, and its items as a download."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator

import msgspec

from projections.state import ITEM_STATES, Item, LogEntry, RunRecord

LEVELS = ("debug", "info", "warning", "error")
_encode = msgspec.json.Encoder().encode


class ItemsPage(msgspec.Struct, rename="camel"):
    run_id: str
    counts: dict[str, int]
    groups: dict[str, list[Item]]
    next_cursor: str | None


class LogPage(msgspec.Struct, rename="camel"):
    run_id: str
    entries: list[LogEntry]
    next_after: int | None


def iter_items(record: RunRecord, *, after: int = 0) -> Iterator[Item]:
    """Every item in sequence order, never-started ones as ``pending``."""
    for sequence in range(after + 1, record.total + 1):
        yield record.item(sequence)


def items_page(record: RunRecord, *, states: Collection[str] = (), limit: int,
               after: int = 0) -> ItemsPage:
    """Up to ``limit`` items after sequence ``after`` in the given states, grouped."""
    groups: dict[str, list[Item]] = {state: [] for state in ITEM_STATES}
    taken = 0
    last = after
    if states and "pending" not in states:
        # Only started items can match: walk those, not every sequence of the run.
        candidates: Iterable[Item] = (record.items[s] for s in sorted(record.items) if s > after)
    else:
        candidates = iter_items(record, after=after)
    for item in candidates:
        if states and item.state not in states:
            continue
        if taken == limit:
            return ItemsPage(record.info.id, record.state_counts(), groups, str(last))
        groups[item.state].append(item)
        taken += 1
        last = item.sequence
    return ItemsPage(record.info.id, record.state_counts(), groups, None)


def log_page(record: RunRecord, *, level: str | None = None, after: int = 0,
             limit: int) -> LogPage:
    """Log lines and lifecycle entries after index ``after`` at ``level`` or above."""
    floor = LEVELS.index(level) if level else 0
    entries: list[LogEntry] = []
    for entry in record.logs[after:]:
        if LEVELS.index(entry.level) < floor:
            continue
        if len(entries) == limit:
            return LogPage(record.info.id, entries, entries[-1].index)
        entries.append(entry)
    return LogPage(record.info.id, entries, None)


EXPORT_COLUMNS = ("runId", "modelName", "providerName", "datasetName", "labels",
                  "sequence", "state", "promptText", "choices", "responseText", "answer",
                  "expected", "correct", "score", "judge", "rationale", "latencyMs",
                  "promptTokens", "completionTokens", "error", "attempts", "startedAt",
                  "finishedAt")


class ExportedRun(msgspec.Struct, rename="camel"):
    """The run each exported item belongs to, so a file read alone says what it is."""

    id: str
    model_name: str
    provider_name: str
    dataset_name: str
    labels: dict[str, str]
    config: dict[str, object]


def export_jsonl(record: RunRecord) -> bytes:
    """One item a line, each led by its run: ``{"run": {...}, "sequence": 1, ...}``."""
    info = record.info
    lead = b'{"run":' + _encode(ExportedRun(info.id, info.model_name, info.provider_name,
                                            info.dataset_name, info.labels,
                                            record.config)) + b","
    return b"".join(lead + _encode(item)[1:] + b"\n" for item in iter_items(record))


def export_csv(record: RunRecord) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    info = record.info
    run = [info.id, info.model_name, info.provider_name, info.dataset_name,
           ";".join(f"{key}={value}" for key, value in info.labels.items())]
    for item in iter_items(record):
        usage = item.usage
        writer.writerow([
            *run, item.sequence, item.state, item.prompt_text, "|".join(item.choices or ()),
            item.response_text, item.answer, item.expected, item.correct, item.score,
            item.judge, item.rationale, item.latency_ms,
            usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None,
            item.error, item.attempts, item.started_at, item.finished_at,
        ])
    return out.getvalue()
