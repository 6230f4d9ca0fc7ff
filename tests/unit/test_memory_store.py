"""Memory entries written by the library call or the service, read back tolerantly."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from harness.memory import MemoryQuery, NewMemory, record_memory
from harness.memory.service import AgentMemory
from harness.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


def lexical_memory(data_dir: Path) -> AgentMemory:
    return AgentMemory(Settings(data_dir=data_dir), semantic=False)


async def texts(memory: AgentMemory, **query: object) -> list[str]:
    """The texts ``memory`` answers for a ``MemoryQuery(**query)``, in order."""
    results = await memory.search(MemoryQuery(**query))  # type: ignore[arg-type]
    return [hit.entry.text for hit in results.results]


@pytest.mark.anyio
async def test_entries_round_trip_newest_first_with_their_fields(data_dir: Path) -> None:
    first = record_memory(data_dir, "first note", tags=["ops"], run_id="run-1")
    async with lexical_memory(data_dir) as memory:
        await memory.add(NewMemory(text="second note"))
        results = await memory.search(MemoryQuery())
    assert [hit.entry.text for hit in results.results] == ["second note", "first note"]
    assert results.results[1].entry == first
    assert {hit.ranker for hit in results.results} == {"recency"}
    assert all(hit.score is None for hit in results.results)


@pytest.mark.anyio
async def test_a_missing_memory_file_is_an_empty_memory(data_dir: Path) -> None:
    async with lexical_memory(data_dir) as memory:
        assert (await memory.search(MemoryQuery(q="anything"))).results == []
        assert memory.position.startswith("mem:") and memory.position.endswith(":0")


@pytest.mark.anyio
async def test_bad_lines_are_skipped_and_counted_and_later_lines_still_read(data_dir: Path) -> None:
    record_memory(data_dir, "before the damage")
    with open(data_dir / "memory.jsonl", "ab") as file:
        file.write(b"not json\n[1, 2]\n{\"text\": \"no id\"}\n\n")
    record_memory(data_dir, "after the damage")
    async with lexical_memory(data_dir) as memory:
        assert await texts(memory) == ["after the damage", "before the damage"]
        assert memory.statistics().bad_lines == 3


@pytest.mark.anyio
async def test_an_entry_another_process_appends_is_found_by_the_next_search(data_dir: Path) -> None:
    async with lexical_memory(data_dir) as memory:
        assert (await memory.search(MemoryQuery(q="kubernetes"))).results == []
        record_memory(data_dir, "kubernetes pods were evicted under memory pressure")
        assert await texts(memory, q="kubernetes") == [
            "kubernetes pods were evicted under memory pressure"]


@pytest.mark.anyio
async def test_a_line_without_its_newline_waits_until_it_is_complete(data_dir: Path) -> None:
    line = msgspec.json.encode({"id": "mem-x", "text": "half written",
                                "createdAt": "2026-01-01T00:00:00.000Z"})
    async with lexical_memory(data_dir) as memory:
        with open(data_dir / "memory.jsonl", "ab") as file:
            file.write(line[:20])
        assert (await memory.search(MemoryQuery())).results == []
        with open(data_dir / "memory.jsonl", "ab") as file:
            file.write(line[20:] + b"\n")
        assert await texts(memory) == ["half written"]
        assert memory.statistics().bad_lines == 0


@pytest.mark.anyio
async def test_a_replaced_memory_file_is_read_again_from_its_start(data_dir: Path) -> None:
    record_memory(data_dir, "old entry about databases")
    async with lexical_memory(data_dir) as memory:
        assert await texts(memory, q="databases") == ["old entry about databases"]
        (data_dir / "memory.jsonl").unlink()
        record_memory(data_dir, "new entry about databases")
        assert await texts(memory, q="databases") == ["new entry about databases"]


@pytest.mark.anyio
async def test_tag_and_run_filters_keep_only_matching_entries(data_dir: Path) -> None:
    record_memory(data_dir, "retry the flaky judge", tags=["judge"], run_id="run-1")
    record_memory(data_dir, "retry the flaky provider", tags=["provider"], run_id="run-1")
    record_memory(data_dir, "retry later", tags=["judge"], run_id="run-2")
    async with lexical_memory(data_dir) as memory:
        assert await texts(memory, tag="judge") == ["retry later", "retry the flaky judge"]
        assert await texts(memory, q="retry", run_id="run-1", tag="provider") == [
            "retry the flaky provider"]
        assert len((await memory.search(MemoryQuery(limit=2))).results) == 2


@pytest.mark.parametrize("text, tags", [("", []), ("   \n", []), ("x" * 20_001, []),
                                        ("ok", ["t"] * 33), ("ok", [""])])
def test_the_library_call_refuses_what_the_api_would_refuse(data_dir: Path, text: str,
                                                            tags: list[str]) -> None:
    with pytest.raises(msgspec.ValidationError):
        record_memory(data_dir, text, tags=tags)
    assert not (data_dir / "memory.jsonl").exists()
