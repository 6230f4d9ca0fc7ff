"""Agent memory: entries in ``memory.jsonl``, listed newest first or searched by relevance.

The service (``harness.memory.service.AgentMemory``) loads numpy and a BM25 index, so it
is not imported here: tools that only need the entry and query types (``harness.client``)
do not pay for it.
"""

from harness.memory.entries import (
    MemoryEntry,
    MemoryHit,
    MemoryQuery,
    MemoryResults,
    NewMemory,
    record_memory,
)

__all__ = ["MemoryEntry", "MemoryHit", "MemoryQuery", "MemoryResults", "NewMemory",
           "record_memory"]
