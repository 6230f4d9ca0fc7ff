"""``/api/memory`` over HTTP: record, list, search, and the 4xx a client can cause."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from harness.settings import Settings
from tests.support.servers import in_process_client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, max_body_bytes=64 * 1024, semantic_memory=False)
    async with in_process_client(settings) as http:
        yield http


@pytest.mark.anyio
async def test_a_posted_entry_comes_back_first_and_is_found_by_search(
        client: httpx.AsyncClient) -> None:
    await client.post("/api/memory", json={"text": "judge strips trailing periods"})
    created = await client.post("/api/memory", json={"text": "openai 429 above concurrency 8",
                                                     "tags": ["provider"], "runId": "run-7"})
    assert created.status_code == 201
    entry = created.json()
    assert entry["text"] == "openai 429 above concurrency 8"
    assert entry["tags"] == ["provider"] and entry["runId"] == "run-7"
    assert entry["id"].startswith("mem-") and entry["createdAt"].endswith("Z")

    listed = await client.get("/api/memory")
    assert listed.json()["results"][0]["entry"]["id"] == entry["id"]
    found = await client.get("/api/memory", params={"q": "judge periods"})
    [hit] = found.json()["results"]
    assert hit["entry"]["text"] == "judge strips trailing periods"
    assert hit["ranker"] == "bm25" and hit["score"] > 0
    by_run = await client.get("/api/memory", params={"runId": "run-7", "tag": "provider"})
    assert [hit["entry"]["id"] for hit in by_run.json()["results"]] == [entry["id"]]


@pytest.mark.anyio
async def test_reads_carry_the_memory_position_and_answer_304_until_it_moves(
        client: httpx.AsyncClient) -> None:
    first = await client.get("/api/memory")
    position = first.headers["X-Harness-Position"]
    assert position.startswith("mem:") and position.endswith(":0")  # mem:<generation>:<offset>
    again = await client.get("/api/memory", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    await client.post("/api/memory", json={"text": "a new note"})
    moved = await client.get("/api/memory", headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200
    assert moved.headers["X-Harness-Position"] != position


@pytest.mark.anyio
async def test_a_memory_file_replaced_by_one_of_the_same_length_is_not_answered_304(
        client: httpx.AsyncClient, tmp_path: Path) -> None:
    await client.post("/api/memory", json={"text": "the old note"})
    first = await client.get("/api/memory")
    [old] = [hit["entry"] for hit in first.json()["results"]]
    other = tmp_path / "other.jsonl"
    other.write_bytes((tmp_path / "memory.jsonl").read_bytes().replace(b"old", b"new"))
    other.replace(tmp_path / "memory.jsonl")  # another file, same length, same offset

    again = await client.get("/api/memory", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert [hit["entry"]["text"] for hit in again.json()["results"]] == ["the new note"]
    assert again.json()["results"][0]["entry"]["id"] == old["id"]


@pytest.mark.anyio
async def test_a_relevance_search_is_tagged_with_the_ranker_that_scored_it(
        client: httpx.AsyncClient) -> None:
    await client.post("/api/memory", json={"text": "judge strips trailing periods"})
    listed = await client.get("/api/memory")
    searched = await client.get("/api/memory", params={"q": "judge"})
    assert searched.headers["X-Harness-Position"] == listed.headers["X-Harness-Position"]
    # When the embedding model arrives the same file scores differently: a search
    # cached under BM25 must not be confirmed by a 304 then.
    assert searched.json()["results"][0]["ranker"] == "bm25"
    assert searched.headers["ETag"].endswith(':bm25"')
    assert listed.headers["ETag"] != searched.headers["ETag"]


@pytest.mark.anyio
@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "many"},
                                    {"q": "x" * 1001}])
async def test_a_query_out_of_range_is_422(client: httpx.AsyncClient, params: dict) -> None:
    response = await client.get("/api/memory", params=params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.anyio
@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "  "}, {"text": "x" * 20_001},
                                  {"text": "ok", "tags": ["t"] * 33}, {"text": "ok", "tags": "ops"},
                                  {"text": "ok", "runId": 5}])
async def test_an_invalid_entry_is_422_and_writes_nothing(client: httpx.AsyncClient, body: dict,
                                                          tmp_path: Path) -> None:
    response = await client.post("/api/memory", json=body)
    assert response.status_code == 422
    assert not (tmp_path / "memory.jsonl").exists()


@pytest.mark.anyio
async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/memory", content=b"{text:",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
