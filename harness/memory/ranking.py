"""Ranking memory entries by relevance to a query: BM25 over their words, blended with
sentence embeddings once the model is there (``harness.memory.semantic``).

``harness.memory.service`` imports this module on the first relevance query (or when
the embedding model arrives): ``bm25s`` brings scipy and numpy, ~0.25 s of a server's
start-up that a server which never searches its memory should not pay.
"""

from __future__ import annotations

import numpy as np

from harness.memory.entries import Ranker
from harness.memory.lexical import LexicalIndex, tokenize
from harness.memory.semantic import Embedder, hybrid_scores


class Relevance:
    """Scores for the texts of every entry, in entry order, as ``add`` received them."""

    def __init__(self) -> None:
        self._lexical = LexicalIndex()
        self._embedder: Embedder | None = None
        self._vectors: np.ndarray | None = None

    @property
    def ranker(self) -> Ranker:
        return "hybrid" if self._embedder is not None else "bm25"

    @property
    def rebuilds(self) -> int:
        return self._lexical.rebuilds

    def add(self, texts: list[str]) -> None:
        """Index the texts of entries read since the last call. CPU-bound."""
        if not texts:
            return
        self._lexical.add(tokenize(texts))
        if self._embedder is not None:
            vectors = self._embedder.embed(texts)
            known = self._vectors
            self._vectors = vectors if known is None else np.vstack((known, vectors))

    def clear(self) -> None:
        """Forget every entry (the file is another history); keep the model."""
        self._lexical.clear()
        self._vectors = None

    def adopt(self, embedder: Embedder, texts: list[str]) -> None:
        """Rank with ``embedder`` from now on; ``texts`` are every entry's so far."""
        self._vectors = embedder.embed(texts) if texts else None
        self._embedder = embedder

    def best(self, text: str, wanted: list[bool], limit: int) -> list[tuple[int, float]]:
        """Up to ``limit`` (entry index, score) pairs among the ``wanted`` entries that
        match ``text`` at all, best first; among equal scores the newer entry first."""
        scores = np.where(np.asarray(wanted, dtype=bool), self._scores(text), 0.0)
        # A stable sort over the entries in reverse order puts the newer one first.
        reverse_order = np.argsort(-scores[::-1], kind="stable")
        best = []
        for reversed_index in reverse_order[:limit]:
            index = len(wanted) - 1 - int(reversed_index)
            if scores[index] <= 0:
                break
            best.append((index, round(float(scores[index]), 6)))
        return best

    def _scores(self, text: str) -> np.ndarray:
        if self._lexical.stale:
            self._lexical.rebuild()
        lexical = self._lexical.scores(tokenize([text])[0])
        if self._embedder is None or self._vectors is None:
            return lexical
        similarity = self._vectors @ self._embedder.embed([text])[0]
        return hybrid_scores(lexical, similarity)
