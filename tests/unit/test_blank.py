"""Blank text is judged alike by the server and by the JSON Schema it publishes."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from harness.blank import NOT_BLANK, is_blank
from harness.errors import Invalid
from harness.memory.entries import NewMemory
from harness.page_feedback import PageFeedbackStore, check_page_url

# White space to one of the two regex dialects only: Python's \s takes the first four,
# ECMA-262's (which JSON Schema patterns use) takes U+FEFF.
DIALECT_SPACES = ["\x1c", "\x1f", "\x85", " \x1d ", "\ufeff"]


@pytest.mark.parametrize("text", DIALECT_SPACES)
def test_space_of_either_dialect_is_blank(text: str) -> None:
    assert is_blank(text)
    assert re.search(NOT_BLANK, text) is None


@pytest.mark.anyio
@pytest.mark.parametrize("comment", DIALECT_SPACES)
async def test_a_comment_of_either_dialects_space_is_refused(tmp_path: Path, comment: str
                                                             ) -> None:
    store = PageFeedbackStore.open(tmp_path / "page-feedback.jsonl")
    with pytest.raises(Invalid):
        await store.add(url="https://example.com/a", comment=comment)


@pytest.mark.parametrize("text", DIALECT_SPACES)
def test_a_memory_of_either_dialects_space_is_refused(text: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode({"text": text}), type=NewMemory)


def test_text_with_a_letter_is_not_blank() -> None:
    assert not is_blank("\ufeff a \x1c")


@pytest.mark.parametrize("space", DIALECT_SPACES)
def test_a_page_url_whose_host_holds_either_dialects_space_is_refused(space: str) -> None:
    # Schemathesis, reading the schema's pattern by ECMA rules, sent https://U+0085 to
    # DELETE /api/page-feedback as valid: the server must judge it as the schema does.
    with pytest.raises(Invalid):
        check_page_url(f"https://{space}")
