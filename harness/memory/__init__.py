"""Agent memory: entries in ``memory.jsonl``, listed newest first or searched by relevance."""

from harness.memory.entries import MemoryEntry, NewMemory, record_memory
from harness.memory.service import AgentMemory, MemoryHit, MemoryQuery, MemoryResults

__all__ = ["AgentMemory", "MemoryEntry", "MemoryHit", "MemoryQuery", "MemoryResults",
           "NewMemory", "record_memory"]
