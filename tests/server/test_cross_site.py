"""Other web pages can neither act on this server nor read its log, while local pages,
file:// pages and scripts can."""

from __future__ import annotations

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


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:7860", "null",
                                    None])
def test_local_pages_file_pages_and_scripts_can_write(server: RunningServer,
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
