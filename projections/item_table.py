"""One run's items as a table: filtered by state and by text, sorted by any column,
one page at a time, so a run of 100,000 items is read a screenful at a time."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import msgspec

from events.schema import Usage
from projections.state import Item, RunRecord

TEXT_PREVIEW = 160

SORT_KEYS: dict[str, Callable[[Item], Any]] = {
    "sequence": lambda i: i.sequence,
    "state": lambda i: i.state,
    "answer": lambda i: i.answer,
    "expected": lambda i: i.expected,
    "score": lambda i: i.score if i.score is not None else (
        None if i.correct is None else float(i.correct)),
    "latency": lambda i: i.latency_ms,
    "tokens": lambda i: _tokens(i.usage),
    "attempts": lambda i: i.attempts or None,
}


class ItemRow(msgspec.Struct, rename="camel", gc=False):
    sequence: int
    state: str
    prompt_preview: str | None
    answer: str | None
    expected: str | None
    correct: bool | None
    score: float | None
    latency_ms: float | None
    tokens: int | None
    attempts: int
    error: str | None
    canceled: bool


class ItemTable(msgspec.Struct, rename="camel"):
    run_id: str
    total: int
    matched: int
    offset: int
    rows: list[ItemRow]


def _tokens(usage: Usage | None) -> int | None:
    if usage is None:
        return None
    return (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)


def _row(item: Item) -> ItemRow:
    prompt = item.prompt_text
    if prompt is not None and len(prompt) > TEXT_PREVIEW:
        prompt = prompt[:TEXT_PREVIEW] + "…"
    return ItemRow(item.sequence, item.state, prompt, item.answer, item.expected, item.correct,
                   item.score, item.latency_ms, _tokens(item.usage), item.attempts, item.error,
                   item.canceled)


def _matches_text(item: Item, needle: str) -> bool:
    return any(needle in text.lower() for text in (item.prompt_text, item.response_text,
                                                   item.error) if text)


def item_table(record: RunRecord, *, states: Collection[str] = (), text: str | None = None,
               sort: str = "sequence", descending: bool = False, offset: int = 0,
               limit: int = 50) -> ItemTable:
    """Rows ``offset .. offset + limit`` of the items in ``states`` (all if empty) whose
    prompt, response or error contains ``text`` (case-insensitive), ordered by ``sort``;
    items without a value for the sort column come last either way."""
    needle = text.lower() if text else None
    if needle or (states and "pending" not in states):
        # Never-started items have no text and are pending: walk the started ones only.
        candidates = [record.items[s] for s in sorted(record.items)]
    else:
        candidates = [record.item(s) for s in range(1, record.total + 1)]
    chosen = [item for item in candidates
              if (not states or item.state in states)
              and (needle is None or _matches_text(item, needle))]
    if sort != "sequence" or descending:
        key = SORT_KEYS[sort]
        known = [item for item in chosen if key(item) is not None]
        unknown = [item for item in chosen if key(item) is None]
        known.sort(key=lambda i: (key(i), i.sequence), reverse=descending)
        chosen = known + unknown
    page = chosen[offset:offset + limit]
    return ItemTable(record.info.id, record.total, len(chosen), offset, [_row(i) for i in page])
