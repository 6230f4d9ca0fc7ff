"""Other web pages can neither act on this server nor read its log, while local pages,
file:// pages and scripts can."""

from __future__ import annotations

from dataclasses import replace

import anyio
import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.support.servers import RunningServer

SPEC = {"providerName": "simulated", "modelName": "m", "datasetName": "arithmetic",
        "limit": 1, "config": {"latencyMs": 0}}


def log_size(server: RunningServer) -> int:
    return server.log_path.stat().st_size if server.log_path.exists() else 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          None])
def test_a_body_not_sent_as_json_is_refused_with_415(server: RunningServer,
                                                     content_type: str | None) -> None:
    before = log_size(server)
    headers = {"Content-Type": content_type} if content_type else {}
    response = httpx.post(f"{server.url}/api/runs", content=httpx.Request(
        "POST", "/", json=SPEC).content, headers=headers)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert log_size(server) == before


def test_a_page_of_another_origin_cannot_write(server: RunningServer) -> None:
    before = log_size(server)
    response = httpx.post(f"{server.url}/api/runs", json=SPEC,
                          headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_origin"
    assert log_size(server) == before


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:7860", None])
def test_local_pages_and_scripts_can_write(server: RunningServer,
                                                      origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    assert httpx.post(f"{server.url}/api/runs", json=SPEC, headers=headers).status_code == 201


@pytest.mark.anyio
async def test_a_page_of_another_origin_cannot_open_the_log_feed(server: RunningServer) -> None:
    with anyio.fail_after(10), pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{server.ws_url}/ws/runs?after=0:0",
                                      origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with websockets.connect(f"{server.ws_url}/ws/runs",
                                  origin="http://localhost:5173") as socket:
        assert socket.state.name == "OPEN"


def test_a_null_origin_page_cannot_write_beyond_page_feedback(server: RunningServer) -> None:
    before = log_size(server)
    null = {"Origin": "null"}
    refused = httpx.post(f"{server.url}/api/runs", json=SPEC, headers=null)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden_origin"
    assert "access-control-allow-origin" not in refused.headers
    assert httpx.post(f"{server.url}/api/memory", json={"text": "x"},
                      headers=null).status_code == 403
    assert log_size(server) == before
    assert not (server.settings.data_dir / "memory.jsonl").exists()
    feedback = httpx.post(f"{server.url}/api/page-feedback", headers=null,
                          json={"url": "file:///tmp/report.html", "rating": "up"})
    assert feedback.status_code == 201
    assert feedback.headers["access-control-allow-origin"] == "null"


def test_a_null_origin_page_reads_runs_but_not_agent_memory(server: RunningServer) -> None:
    null = {"Origin": "null"}
    runs = httpx.get(f"{server.url}/api/runs", headers=null)
    assert runs.status_code == 200
    assert runs.headers["access-control-allow-origin"] == "null"
    memory = httpx.get(f"{server.url}/api/memory", headers=null)
    assert memory.status_code == 403
    assert "access-control-allow-origin" not in memory.headers


@pytest.mark.parametrize(("method", "path", "admitted"), [
    ("POST", "/api/page-feedback", True), ("POST", "/api/runs", False),
    ("DELETE", "/api/page-feedback", False), ("POST", "/api/memory", False)])
def test_the_cors_preflight_for_null_follows_the_same_rule(
        server: RunningServer, method: str, path: str, admitted: bool) -> None:
    answer = httpx.options(f"{server.url}{path}", headers={
        "Origin": "null", "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type"})
    assert (answer.headers.get("access-control-allow-origin") == "null") is admitted


def test_with_the_token_a_null_origin_page_may_write(server_factory, settings) -> None:
    server = server_factory(replace(settings, token="tok"))
    response = httpx.post(f"{server.url}/api/runs", json=SPEC,
                          headers={"Origin": "null", "Authorization": "Bearer tok"})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "null"
