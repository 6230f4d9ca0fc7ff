"""Agent memory as a service: record entries, list them newest first, search them.

All state changes (reading new lines, tokenizing, embedding, rebuilding the BM25 index)
happen under one lock in a worker thread, so a large catch-up never stalls the event
loop and a search always sees every entry appended before it began.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import NamedTuple

import anyio
import numpy as np

from harness.memory.entries import (
    MemoryEntry,
    MemoryHit,
    MemoryQuery,
    MemoryResults,
    NewMemory,
    Ranker,
    append_memory,
    memory_path,
)
from harness.memory.lexical import LexicalIndex, tokenize
from harness.memory.log import MemoryLog
from harness.memory.semantic import Embedder, hybrid_scores, load_embedder
from harness.settings import Settings

logger = logging.getLogger(__name__)

class MemoryStatistics(NamedTuple):
    entries: int
    bad_lines: int
    ranker: Ranker
    index_rebuilds: int


class AgentMemory:
    """The memory of ``settings.data_dir / memory.jsonl``.

    ``semantic`` allows the embedding model when the ``semantic`` extra is installed;
    pass ``False`` to rank by BM25 alone. The model is loaded in the background when
    the first relevance query (``q``) asks for it, or on ``start_loading_model()``: its
    first load in a process imports torch (about 4 s of CPU on 2 vCPUs, hundreds of
    MB), which a server that never searches memory should not pay. Memory ranks by
    BM25 until the model is ready, then embeds every entry and switches to hybrid.
    ``semantic_settled`` is set when that is over, model or not. ``aclose()`` must run
    in the task that ran ``open()``.
    """

    def __init__(self, settings: Settings, *, semantic: bool = True) -> None:
        self.settings = settings
        self.path = memory_path(settings.data_dir)
        self._semantic = semantic
        self._log = MemoryLog(self.path)
        self._lexical = LexicalIndex()
        self._embedder: Embedder | None = None
        self._vectors: np.ndarray | None = None
        self._generation = 0
        self._lock = anyio.Lock()
        self._stack = AsyncExitStack()
        self._tasks: anyio.abc.TaskGroup | None = None
        self._model_requested = False
        self.semantic_settled = anyio.Event()

    async def open(self) -> None:
        async with self._lock:
            await anyio.to_thread.run_sync(self._catch_up)
        if not self._semantic:
            self.semantic_settled.set()
            return
        self._tasks = await self._stack.enter_async_context(anyio.create_task_group())
        self._stack.callback(self._tasks.cancel_scope.cancel)

    def start_loading_model(self) -> None:
        """Begin loading the embedding model in the background (once)."""
        if self._tasks is None or self._model_requested:
            return
        self._model_requested = True
        self._tasks.start_soon(self._adopt_embedder)

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._embedder = None

    async def _adopt_embedder(self) -> None:
        try:
            embedder = await anyio.to_thread.run_sync(load_embedder, abandon_on_cancel=True)
            if embedder is not None:
                async with self._lock:
                    await anyio.to_thread.run_sync(self._embed_all, embedder)
        except Exception:  # the extra is optional: a broken install must not stop memory
            logger.exception("the embedding model could not be loaded; memory ranks by BM25")
        finally:
            self.semantic_settled.set()

    def _embed_all(self, embedder: Embedder) -> None:
        self._catch_up()
        entries = self._log.entries
        self._vectors = embedder.embed([entry.text for entry in entries]) if entries else None
        self._embedder = embedder

    async def __aenter__(self) -> AgentMemory:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def position(self) -> str:
        """The memory file's cursor: its incarnation and the byte offset read so far."""
        return f"mem:{self._log.position}"

    @property
    def ranker(self) -> Ranker:
        return "hybrid" if self._embedder is not None else "bm25"

    def statistics(self) -> MemoryStatistics:
        return MemoryStatistics(len(self._log.entries), self._log.bad_lines, self.ranker,
                                self._lexical.rebuilds)

    async def add(self, draft: NewMemory) -> MemoryEntry:
        """Append an entry and read it back, so that ``position`` covers it."""
        entry = await anyio.to_thread.run_sync(append_memory, self.path, draft)
        async with self._lock:
            await anyio.to_thread.run_sync(self._catch_up)
        return entry

    async def search(self, query: MemoryQuery) -> MemoryResults:
        results, _version = await self.search_with_version(query)
        return results

    async def search_with_version(self, query: MemoryQuery) -> tuple[MemoryResults, str]:
        """The results and what they depend on besides the query, for an ETag: the
        file's position and, for a relevance query, the ranker (when the embedding model
        arrives the same file and query score differently)."""
        if query.q:
            self.start_loading_model()
        async with self._lock:
            return await anyio.to_thread.run_sync(self._search_with_version, query)

    def _search_with_version(self, query: MemoryQuery) -> tuple[MemoryResults, str]:
        results = self._search(query)  # under the lock: the ranker cannot change meanwhile
        return results, f"{self.position}:{self.ranker if query.q else 'recency'}"

    def _catch_up(self) -> None:
        fresh = self._log.catch_up()
        if self._log.generation != self._generation:
            self._generation = self._log.generation
            self._lexical.clear()
            self._vectors = None
            fresh = list(self._log.entries)
        if not fresh:
            return
        texts = [entry.text for entry in fresh]
        self._lexical.add(tokenize(texts))
        if self._embedder is not None:
            vectors = self._embedder.embed(texts)
            known = self._vectors
            self._vectors = vectors if known is None else np.vstack((known, vectors))

    def _search(self, query: MemoryQuery) -> MemoryResults:
        self._catch_up()
        entries = self._log.entries
        wanted = [(query.tag is None or query.tag in entry.tags)
                  and (query.run_id is None or entry.run_id == query.run_id) for entry in entries]
        if not query.q:
            newest = [i for i in reversed(range(len(entries))) if wanted[i]][: query.limit]
            return MemoryResults([MemoryHit(entries[i], None, "recency") for i in newest])
        scores, ranker = self._relevance(query.q)
        scores = np.where(np.asarray(wanted, dtype=bool), scores, 0.0)
        # Best first; among equal scores the newer entry first (stable sort over the
        # entries in reverse order).
        reverse_order = np.argsort(-scores[::-1], kind="stable")
        hits = []
        for reversed_index in reverse_order[: query.limit]:
            index = len(entries) - 1 - int(reversed_index)
            if scores[index] <= 0:
                break
            hits.append(MemoryHit(entries[index], round(float(scores[index]), 6), ranker))
        return MemoryResults(hits)

    def _relevance(self, text: str) -> tuple[np.ndarray, Ranker]:
        if self._lexical.stale:
            self._lexical.rebuild()
        lexical = self._lexical.scores(tokenize([text])[0])
        if self._embedder is None or self._vectors is None:
            return lexical, "bm25"
        similarity = self._vectors @ self._embedder.embed([text])[0]
        return hybrid_scores(lexical, similarity), "hybrid"
