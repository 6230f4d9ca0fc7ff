"""No 500 from client input: every hostile body, header and cursor on every route is a
4xx in the SPEC error shape, and writes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from harness.settings import Settings
from tests.support.servers import in_process_client

DEEP = 5_000
HOSTILE_BODIES = {
    "objects nested 5,000 deep": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "arrays nested 5,000 deep": b"[" * DEEP + b"]" * DEEP,
    # Decodes, but every recursive step after decoding would overflow the stack.
    "arrays nested 900 deep in a field": b'{"text":' + b"[" * 900 + b"]" * 900 + b"}",
    "invalid UTF-8 in a string": b'{"text": "caf\xc3\x28 \xff\xfe", "url": "http://x/\xff"}',
    "invalid UTF-8 outside strings": b'\xff{"text": "x"}',
    "a lone surrogate escape": b'{"text": "\\ud800", "url": "http://x/"}',
    "a truncated document": b'{"text": "x',
    "a bare string": b'"hello"',
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path / "data", semantic_memory=False)
    async with in_process_client(settings) as http:
        yield http


def data_files(tmp_path: Path) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in (tmp_path / "data").glob("*.jsonl")}


async def post_routes(client: httpx.AsyncClient) -> list[str]:
    document = (await client.get("/openapi.json")).json()
    return [re.sub(r"\{[^}]+\}", "run-x", path) for path, operations in document["paths"].items()
            if "post" in operations]


def assert_client_error(response: httpx.Response, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}, what


@pytest.mark.anyio
@pytest.mark.parametrize("name", HOSTILE_BODIES)
async def test_a_hostile_body_is_a_4xx_on_every_post_route(client: httpx.AsyncClient,
                                                           tmp_path: Path, name: str) -> None:
    routes = await post_routes(client)
    assert "/api/runs" in routes and "/api/browser-harness/imports" in routes
    before = data_files(tmp_path)
    for path in routes:
        response = await client.post(path, content=HOSTILE_BODIES[name],
                                     headers={"Content-Type": "application/json"})
        assert_client_error(response, f"{name} → POST {path}")
    assert data_files(tmp_path) == before


@pytest.mark.anyio
async def test_a_capture_time_with_an_extreme_offset_is_a_422(client: httpx.AsyncClient,
                                                               tmp_path: Path) -> None:
    pack = (await client.post("/api/browser-harness/packs", json={
        "datasetName": "arithmetic", "modelName": "m", "limit": 1})).json()
    before = data_files(tmp_path)
    response = await client.post("/api/browser-harness/imports", json={
        "pack": pack, "captures": [{"sequence": 1, "responseText": "A",
                                    "capturedAt": "0001-01-01T00:00:00+23:59"}]})
    assert_client_error(response, "capturedAt 0001-01-01T00:00:00+23:59")
    assert response.status_code == 422
    assert data_files(tmp_path) == before


@pytest.mark.anyio
@pytest.mark.parametrize("url", [
    "/api/runs?cursor=%ff%fe", "/api/runs?cursor=" + "9" * 400, "/api/runs?cursor=-1:zz",
    "/api/runs/run-x/items?cursor=%00", "/api/runs/run-x/logs?after=%ff",
    "/api/runs?limit=1e999", "/api/runs?limit=-0", "/api/memory?limit=%ff",
    "/api/runs/active?limit=99999999999999999999999"])
async def test_a_bad_cursor_or_parameter_is_a_4xx(client: httpx.AsyncClient, url: str) -> None:
    assert_client_error(await client.get(url), url)


@pytest.mark.anyio
@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json; charset=\xff"},
    {"Content-Type": "application/json", "Content-Length": "abc"},
    {"Content-Type": "application/json", "If-None-Match": "\xff" * 100},
    {"Content-Type": "application/json", "Authorization": "Bearer \xff"},
    {"Content-Type": "application/json", "Origin": "\xff"},
])
async def test_bad_headers_are_a_4xx(client: httpx.AsyncClient, headers: dict) -> None:
    encoded = [(name.encode(), value.encode("latin-1")) for name, value in headers.items()]
    response = await client.post("/api/memory", content=b'{"text": "x"}', headers=encoded)
    assert response.status_code < 500, (headers, response.status_code, response.text[:300])
