"""Feedback on web pages, left through the embeddable widget (``/widget.js``).

It is kept in its own append-only log, ``page-feedback.jsonl`` beside ``runs.jsonl``,
and folded into memory at start-up. Clearing a page appends a ``page_feedback_cleared``
record instead of rewriting the file, so the log stays the only source of truth and a
bad or torn line is skipped rather than fatal.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Literal

import anyio
import msgspec
from msgspec import Meta

from events.decoding import decode_each
from events.writer import append_events, format_timestamp, now_timestamp
from harness.blank import WHITE_SPACE, is_blank
from harness.errors import Invalid

LOG_FILE = "page-feedback.jsonl"

# One rule for the schema and the store: an http(s) URL with a host, or a file URL
# (white space spelled out, as ECMA and Python read `\s` differently).
PAGE_URL_PATTERN = rf"^(https?://[^/?#{WHITE_SPACE}]+|file://)"
PageUrl = Annotated[str, Meta(min_length=1, max_length=2048, pattern=PAGE_URL_PATTERN,
                               description="an http(s) URL with a host, or a file URL")]
Comment = Annotated[str, Meta(max_length=2000)]
Selector = Annotated[str, Meta(max_length=1000)]


class _Record(msgspec.Struct, tag_field="type", rename="camel", frozen=True, kw_only=True):
    url: str
    ts: str


class PageFeedback(_Record, tag="page_feedback", frozen=True):
    """One piece of feedback on a page; ``selector`` points at the element it is about."""

    id: str
    rating: Literal["up", "down"] | None = None
    comment: str | None = None
    selector: str | None = None


class PageFeedbackCleared(_Record, tag="page_feedback_cleared", frozen=True):
    pass


_decoder = msgspec.json.Decoder(PageFeedback | PageFeedbackCleared)


def check_page_url(url: str) -> None:
    """Raise unless ``url`` is an http(s) or file URL (the widget runs on both)."""
    if not re.match(PAGE_URL_PATTERN, url):
        raise Invalid(f"url must be an http, https or file URL, got {url[:200]!r}",
                      details={"in": "body", "field": "url"})


class PageFeedbackStore:
    """Every page's current feedback, folded from the log at ``path``.

    ``skipped_lines`` counts lines that could not be read; they are ignored.
    Writes go through one lock so that memory and file see them in the same order.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped_lines = 0
        self._pages: dict[str, list[PageFeedback]] = {}
        self._lock = anyio.Lock()

    @classmethod
    def open(cls, path: Path) -> PageFeedbackStore:
        store = cls(path)
        if path.exists():
            records, store.skipped_lines = decode_each(path.read_bytes(), _decoder)
            for record in records:
                store._apply(record)
        return store

    def entries(self, url: str) -> list[PageFeedback]:
        """The page's feedback, newest first."""
        return self._pages.get(url, [])[::-1]

    async def add(self, *, url: str, rating: Literal["up", "down"] | None = None,
                  comment: str | None = None, selector: str | None = None) -> PageFeedback:
        check_page_url(url)
        if rating is None and (comment is None or is_blank(comment)):
            raise Invalid("page feedback needs a rating or a comment",
                          details={"in": "body", "field": "rating"})
        entry = PageFeedback(id="pf-" + secrets.token_hex(8), url=url,
                             ts=format_timestamp(now_timestamp()), rating=rating,
                             comment=comment, selector=selector)
        async with self._lock:
            await self._append(entry)
        return entry

    async def clear(self, *, url: str) -> int:
        """Clear the page's feedback; return how many entries that removed."""
        async with self._lock:
            removed = len(self._pages.get(url, []))
            if removed:
                cleared = PageFeedbackCleared(url=url, ts=format_timestamp(now_timestamp()))
                await self._append(cleared)
        return removed

    async def _append(self, record: PageFeedback | PageFeedbackCleared) -> None:
        await anyio.to_thread.run_sync(append_events, self.path, [record])
        self._apply(record)

    def _apply(self, record: PageFeedback | PageFeedbackCleared) -> None:
        if isinstance(record, PageFeedbackCleared):
            self._pages.pop(record.url, None)
        else:
            self._pages.setdefault(record.url, []).append(record)
