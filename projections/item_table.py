"""One run's items as a table: filtered by state, by text and by column, sorted by any
column, one page at a time, so a run of 100,000 items is read a screenful at a time."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
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


Range = tuple[float | None, float | None]  # inclusive bounds; None: unbounded
UNBOUNDED: Range = (None, None)


@dataclass(frozen=True, kw_only=True)
class ColumnFilter:
    """Filters on the table's columns, all of which an item must pass.

    ``answer`` and ``expected`` match the whole value in any letter case; ``score`` is
    the score column (the judge's score, else 1 or 0 for right or wrong), ``latency_ms``
    and ``tokens`` likewise, each an inclusive range; ``min_attempts`` 2 keeps the
    retried items. An item without a value for a filtered column does not pass it.
    """

    answer: str | None = None
    expected: str | None = None
    score: Range = UNBOUNDED
    latency_ms: Range = UNBOUNDED
    tokens: Range = UNBOUNDED
    min_attempts: int | None = None

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) not in (None, UNBOUNDED) for f in fields(self))

    def admits(self, item: Item) -> bool:
        return (_same(item.answer, self.answer) and _same(item.expected, self.expected)
                and _within(SORT_KEYS["score"](item), self.score)
                and _within(item.latency_ms, self.latency_ms)
                and _within(_tokens(item.usage), self.tokens)
                and (self.min_attempts is None or item.attempts >= self.min_attempts))


NO_COLUMN_FILTER = ColumnFilter()


def _same(value: str | None, wanted: str | None) -> bool:
    return wanted is None or (value is not None
                              and value.strip().casefold() == wanted.strip().casefold())


def _within(value: float | None, bounds: Range) -> bool:
    low, high = bounds
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


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
               columns: ColumnFilter = NO_COLUMN_FILTER, sort: str = "sequence",
               descending: bool = False, offset: int = 0, limit: int = 50) -> ItemTable:
    """Rows ``offset .. offset + limit`` of the items in ``states`` (all if empty) whose
    prompt, response or error contains ``text`` (case-insensitive) and that pass
    ``columns``, ordered by ``sort``; items without a value for the sort column come
    last either way."""
    needle = text.lower() if text else None
    if needle or columns or (states and "pending" not in states):
        # Never-started items have no text, no column values and are pending: walk the
        # started ones only.
        candidates = [record.items[s] for s in sorted(record.items)]
    else:
        candidates = [record.item(s) for s in range(1, record.total + 1)]
    chosen = [item for item in candidates
              if (not states or item.state in states)
              and (needle is None or _matches_text(item, needle))
              and (not columns or columns.admits(item))]
    if sort != "sequence" or descending:
        key = SORT_KEYS[sort]
        known = [item for item in chosen if key(item) is not None]
        unknown = [item for item in chosen if key(item) is None]
        known.sort(key=lambda i: (key(i), i.sequence), reverse=descending)
        chosen = known + unknown
    page = chosen[offset:offset + limit]
    return ItemTable(record.info.id, record.total, len(chosen), offset, [_row(i) for i in page])
