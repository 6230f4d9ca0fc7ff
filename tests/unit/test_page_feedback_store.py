"""Page feedback kept in its own append-only log and folded back at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import Invalid
from harness.page_feedback import PageFeedbackStore


@pytest.mark.anyio
async def test_feedback_is_listed_newest_first_and_survives_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "page-feedback.jsonl"
    store = PageFeedbackStore.open(log)
    first = await store.add(url="https://example.com/a", rating="up")
    second = await store.add(url="https://example.com/a", comment="typo in the title",
                             selector="h1")
    await store.add(url="file:///home/me/report.html", rating="down")

    reopened = PageFeedbackStore.open(log)
    assert [e.id for e in reopened.entries("https://example.com/a")] == [second.id, first.id]
    assert reopened.entries("https://example.com/a")[0].selector == "h1"
    assert len(reopened.entries("file:///home/me/report.html")) == 1


@pytest.mark.anyio
async def test_clearing_a_page_appends_instead_of_rewriting(tmp_path: Path) -> None:
    log = tmp_path / "page-feedback.jsonl"
    store = PageFeedbackStore.open(log)
    await store.add(url="https://example.com/a", rating="up")
    await store.add(url="https://example.com/b", rating="up")
    before = log.read_bytes()

    assert await store.clear(url="https://example.com/a") == 1
    assert log.read_bytes().startswith(before)
    assert store.entries("https://example.com/a") == []
    reopened = PageFeedbackStore.open(log)
    assert reopened.entries("https://example.com/a") == []
    assert len(reopened.entries("https://example.com/b")) == 1


@pytest.mark.anyio
async def test_clearing_a_page_without_feedback_writes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "page-feedback.jsonl"
    assert await PageFeedbackStore.open(log).clear(url="https://example.com/") == 0
    assert not log.exists()


def test_bad_and_unfinished_lines_are_skipped(tmp_path: Path) -> None:
    log = tmp_path / "page-feedback.jsonl"
    log.write_bytes(
        b'{"type":"page_feedback","id":"pf-1","url":"https://a.test/","ts":"t","rating":"up"}\n'
        b"not json\n"
        b'{"type":"mystery","url":"https://a.test/","ts":"t"}\n'
        b'{"type":"page_feedback","id":"pf-2","url":"https://a.test/","ts":"t","rat'
    )
    store = PageFeedbackStore.open(log)
    assert [e.id for e in store.entries("https://a.test/")] == ["pf-1"]
    assert store.skipped_lines == 2


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://", "ftp://example.com/x",
                                 "example.com"])
async def test_only_http_and_file_urls_are_accepted(tmp_path: Path, url: str) -> None:
    log = tmp_path / "page-feedback.jsonl"
    with pytest.raises(Invalid):
        await PageFeedbackStore.open(log).add(url=url, rating="up")
    assert not log.exists()


@pytest.mark.anyio
async def test_feedback_without_a_rating_or_a_comment_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "page-feedback.jsonl"
    with pytest.raises(Invalid):
        await PageFeedbackStore.open(log).add(url="https://example.com/", comment="  ")
    assert not log.exists()
