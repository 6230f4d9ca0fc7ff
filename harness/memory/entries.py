"""Memory entries: what an agent wrote down, and the one way to write one.

Entries live in ``memory.jsonl`` beside the runs log, one JSON object per line, appended
with the same locked single-write appender as the runs log, so agents in other
processes may call ``record_memory`` while the server reads the file.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from events.writer import append_event, format_timestamp, now_timestamp
from harness.blank import NOT_BLANK

MEMORY_FILE = "memory.jsonl"

MAX_TEXT_CHARS = 20_000
MAX_TAGS = 32

Tag = Annotated[str, Meta(min_length=1, max_length=64)]


class MemoryEntry(msgspec.Struct, rename="camel", frozen=True, kw_only=True, omit_defaults=True):
    """One line of ``memory.jsonl``. No length limits here: a line another writer made
    longer than the API allows is still an entry, not a problem."""

    id: str
    text: str
    tags: list[str] = []
    run_id: str | None = None
    created_at: str


class NewMemory(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """What a writer supplies: the body of ``POST /api/memory`` and of ``record_memory``."""

    text: Annotated[str, Meta(min_length=1, max_length=MAX_TEXT_CHARS, pattern=NOT_BLANK,
                              description="the note; 1 to 20,000 characters, not all blank")]
    tags: Annotated[list[Tag], Meta(max_length=MAX_TAGS)] = []
    run_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


Ranker = Literal["bm25", "hybrid", "recency"]


class MemoryQuery(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """``GET /api/memory``: ``q`` ranks by relevance; without it, newest first."""

    q: Annotated[str, Meta(max_length=1000)] | None = None
    tag: str | None = None
    run_id: str | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50


class MemoryHit(msgspec.Struct, rename="camel", frozen=True):
    """One result. ``score`` is BM25 (unbounded), hybrid (0 to 1), or null for recency."""

    entry: MemoryEntry
    score: float | None
    ranker: Ranker


class MemoryResults(msgspec.Struct, rename="camel", frozen=True):
    results: list[MemoryHit]


def memory_path(data_dir: Path) -> Path:
    return data_dir / MEMORY_FILE


def append_memory(path: Path, draft: NewMemory) -> MemoryEntry:
    """Append a validated draft as a new entry and return it."""
    entry = MemoryEntry(id=f"mem-{uuid.uuid4().hex[:16]}", text=draft.text, tags=list(draft.tags),
                        run_id=draft.run_id, created_at=format_timestamp(now_timestamp()))
    append_event(path, entry)
    return entry


def record_memory(data_dir: Path, text: str, *, tags: list[str] | None = None,
                  run_id: str | None = None) -> MemoryEntry:
    """The library call for agents that write directly: same rules as ``POST /api/memory``.

    Raises ``msgspec.ValidationError`` for blank text, or text or tags out of range.
    The server picks the entry up on its next memory request.
    """
    draft = msgspec.convert({"text": text, "tags": tags or [], "runId": run_id}, NewMemory)
    return append_memory(memory_path(data_dir), draft)
