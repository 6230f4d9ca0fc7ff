"""BM25 ranking of memory entries, by the ``bm25s`` library.

``bm25s`` builds its index in one pass and cannot add a document to it, so the index is
rebuilt lazily: appending costs nothing, and the first query after new entries
rebuilds from the tokens kept per entry (tokenizing is done once, when an entry is
read). Measured on 2 vCPU: rebuilding 1,000 thirty-word entries takes ~18 ms, 10,000
~180 ms, and scoring a query over them 0.1 ms. ``tantivy`` adds documents
incrementally but each commit took 7-12 ms and reloading the reader up to 70 ms, so it
was no faster at this size and brings a native search engine with it.
"""

from __future__ import annotations

import bm25s
import numpy as np


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more characters, English stopwords removed."""
    if not texts:
        return []
    return bm25s.tokenize(texts, return_ids=False, stopwords="en", show_progress=False)


class LexicalIndex:
    """BM25 scores over a growing list of token lists (one per entry, in entry order)."""

    def __init__(self) -> None:
        self._tokens: list[list[str]] = []
        self._index: bm25s.BM25 | None = None
        self._indexed = 0
        self.rebuilds = 0

    def __len__(self) -> int:
        return len(self._tokens)

    def add(self, tokens: list[list[str]]) -> None:
        self._tokens.extend(tokens)

    def clear(self) -> None:
        self._tokens = []
        self._index = None
        self._indexed = 0

    @property
    def stale(self) -> bool:
        return self._indexed != len(self._tokens)

    def rebuild(self) -> None:
        """Index every entry added so far. CPU-bound: callers on an event loop run it in
        a worker thread. A corpus with no words at all has no index (BM25 would divide
        by its zero average length)."""
        tokens = list(self._tokens)
        index = None
        if any(tokens):
            index = bm25s.BM25()
            index.index(tokens, show_progress=False)
        self._index, self._indexed = index, len(tokens)
        self.rebuilds += 1

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """One BM25 score per indexed entry (0 where no query word occurs)."""
        if self._index is None or not query_tokens:
            return np.zeros(self._indexed, dtype=np.float32)
        return self._index.get_scores(query_tokens)
