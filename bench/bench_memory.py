"""Agent memory: ingest rate and query latency over 1,000 entries.

    python bench/bench_memory.py [--entries 1000] [--queries 300] [--semantic]

Entries are made-up notes of about 30 words from a 3,000-word vocabulary plus some
domain words. Three latencies are measured through ``AgentMemory.search`` (what the
HTTP handler calls): a BM25 query on an unchanged memory, the first query after a new
entry (it pays the lazy index rebuild), and the newest-first listing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.memory import MemoryQuery, NewMemory
from harness.memory.service import AgentMemory
from harness.settings import Settings

DOMAIN = ["deploy", "database", "latency", "timeout", "retry", "cache", "token", "model",
          "judge", "prompt", "provider", "dataset", "accuracy", "rate", "limit", "tokenizer",
          "queue", "worker"]


def made_up_notes(count: int, rng: random.Random) -> list[str]:
    words = [f"w{i}" for i in range(3000)] + DOMAIN * 20
    return [" ".join(rng.choices(words, k=30)) for _ in range(count)]


def percentiles(samples_s: list[float]) -> str:
    ordered = sorted(samples_s)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"


async def timed(memory: AgentMemory, query: MemoryQuery) -> float:
    started = time.perf_counter()
    await memory.search(query)
    return time.perf_counter() - started


async def main(entries: int, queries: int, semantic: bool) -> None:
    rng = random.Random(7)
    notes = made_up_notes(entries, rng)
    with tempfile.TemporaryDirectory() as data_dir:
        async with AgentMemory(Settings(data_dir=Path(data_dir)), semantic=semantic) as memory:
            memory.start_loading_model()
            await memory.semantic_settled.wait()
            started = time.perf_counter()
            for note in notes:
                await memory.add(NewMemory(text=note, tags=[rng.choice(DOMAIN)]))
            ingest_s = time.perf_counter() - started
            print(f"ranker: {memory.ranker}; {entries} entries")
            print(f"ingest (POST path: append + read back): {entries / ingest_s:8.0f} entries/s")

            texts = [" ".join(rng.choices(DOMAIN, k=3)) for _ in range(queries)]
            await memory.search(MemoryQuery(q=texts[0]))  # build the index once
            steady = [await timed(memory, MemoryQuery(q=text)) for text in texts]
            print(f"query, unchanged memory:      {percentiles(steady)}")

            after_add = []
            for text in texts[: max(queries // 5, 10)]:
                await memory.add(NewMemory(text=rng.choice(notes)))
                after_add.append(await timed(memory, MemoryQuery(q=text)))
            print(f"query, first after an add:    {percentiles(after_add)}")

            listing = [await timed(memory, MemoryQuery(limit=50)) for _ in range(queries)]
            print(f"newest first, limit 50:       {percentiles(listing)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--semantic", action="store_true",
                        help="use the embedding model if the semantic extra is installed")
    args = parser.parse_args()
    anyio.run(main, args.entries, args.queries, args.semantic)
