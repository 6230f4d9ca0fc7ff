"""Agent memory as a service: record entries, list them newest first, search them.

All state changes (reading new lines, tokenizing, embedding, rebuilding the BM25 index)
happen under one lock in a worker thread, so a large catch-up never stalls the event
loop and a search always sees every entry appended before it began.

Ranking by relevance (``harness.memory.ranking``: BM25, numpy, the embedding model) is
imported and built on the first relevance query, in ``_ranking``: listing and recording
entries never need it, and a server starts faster without it.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, NamedTuple

import anyio

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
from harness.memory.log import MemoryLog
from harness.settings import Settings

if TYPE_CHECKING:
    from harness.memory.ranking import Relevance
    from harness.memory.semantic import Embedder

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
        self._relevance: Relevance | None = None  # made by the first relevance query
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

    async def _adopt_embedder(self) -> None:
        try:
            embedder = await anyio.to_thread.run_sync(_load_embedder, abandon_on_cancel=True)
            if embedder is not None:
                async with self._lock:
                    await anyio.to_thread.run_sync(self._embed_all, embedder)
        except Exception:  # the extra is optional: a broken install must not stop memory
            logger.exception("the embedding model could not be loaded; memory ranks by BM25")
        finally:
            self.semantic_settled.set()

    def _embed_all(self, embedder: Embedder) -> None:
        self._catch_up()
        self._ranking().adopt(embedder, [entry.text for entry in self._log.entries])

    def _ranking(self) -> Relevance:
        """The relevance ranking, built over every entry read so far on first use."""
        if self._relevance is None:
            from harness.memory.ranking import Relevance

            self._relevance = Relevance()
            self._relevance.add([entry.text for entry in self._log.entries])
        return self._relevance

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
        return self._relevance.ranker if self._relevance is not None else "bm25"

    def statistics(self) -> MemoryStatistics:
        rebuilds = self._relevance.rebuilds if self._relevance is not None else 0
        return MemoryStatistics(len(self._log.entries), self._log.bad_lines, self.ranker,
                                rebuilds)

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
            fresh = list(self._log.entries)
            if self._relevance is not None:
                self._relevance.clear()
        if fresh and self._relevance is not None:
            self._relevance.add([entry.text for entry in fresh])

    def _search(self, query: MemoryQuery) -> MemoryResults:
        self._catch_up()
        entries = self._log.entries
        wanted = [(query.tag is None or query.tag in entry.tags)
                  and (query.run_id is None or entry.run_id == query.run_id) for entry in entries]
        if not query.q:
            newest = [i for i in reversed(range(len(entries))) if wanted[i]][: query.limit]
            return MemoryResults([MemoryHit(entries[i], None, "recency") for i in newest])
        relevance = self._ranking()
        return MemoryResults([MemoryHit(entries[index], score, relevance.ranker)
                              for index, score in relevance.best(query.q, wanted, query.limit)])


def _load_embedder() -> Embedder | None:
    """``load_embedder``, imported here in the worker thread: the module imports numpy,
    which on the event loop would stall every request for as long as it takes."""
    from harness.memory.semantic import load_embedder

    return load_embedder()
