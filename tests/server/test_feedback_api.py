"""Run feedback and page feedback over a real server."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.sse import sse_stream
from tests.support.waiting import wait_until


def finished_run(server: RunningServer, run_id: str = "run-1") -> None:
    append(server.log_path, *run_history(run_id))
    wait_until(lambda: httpx.get(f"{server.url}/api/runs/{run_id}").status_code == 200,
               message=f"run {run_id} visible")


def test_feedback_shows_in_the_run_detail_and_the_archive(server: RunningServer) -> None:
    finished_run(server)
    response = httpx.post(f"{server.url}/api/feedback",
                          json={"runId": "run-1", "rating": "down", "comment": "wrong units"})
    assert response.status_code == 201
    assert response.json() == {"runId": "run-1", "rating": "down", "comment": "wrong units"}

    detail = httpx.get(f"{server.url}/api/runs/run-1").json()
    assert detail["run"]["feedback"]["rating"] == "down"
    assert detail["run"]["feedback"]["comment"] == "wrong units"
    row = httpx.get(f"{server.url}/api/runs").json()["runs"][0]
    assert row["run"]["feedback"]["rating"] == "down"


def test_feedback_for_an_unknown_run_is_404_and_writes_nothing(server: RunningServer) -> None:
    finished_run(server)
    before = server.log_path.read_bytes()
    response = httpx.post(f"{server.url}/api/feedback", json={"runId": "nope", "rating": "up"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert server.log_path.read_bytes() == before


@pytest.mark.parametrize("body", [{"runId": "run-1", "rating": "meh"},
                                  {"runId": "run-1", "rating": "up", "comment": "x" * 2001},
                                  {"runId": "run-1"}])
def test_a_bad_rating_or_comment_is_422_and_writes_nothing(server: RunningServer,
                                                           body: dict) -> None:
    finished_run(server)
    before = server.log_path.read_bytes()
    response = httpx.post(f"{server.url}/api/feedback", json=body)
    assert response.status_code == 422
    assert server.log_path.read_bytes() == before


@pytest.mark.anyio
async def test_feedback_reaches_an_sse_client_as_run_status(server: RunningServer) -> None:
    finished_run(server)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        position = (await http.get("/api/runs/run-1")).headers["x-harness-position"]
        async with sse_stream(server.url, after=position) as stream:
            posted = await http.post("/api/feedback", json={"runId": "run-1", "rating": "up"})
            assert posted.status_code == 201
            with anyio.fail_after(10):
                while True:
                    message = await stream.next()
                    feedback = (message.data["run"].get("feedback") or {}
                                if message.event == "run_status" else {})
                    if feedback.get("rating") == "up":
                        break
            assert message.data["run"]["id"] == "run-1"


def test_page_feedback_from_a_file_page_round_trips(server: RunningServer) -> None:
    page = "file:///home/me/report.html"
    origin = {"Origin": "null"}
    preflight = httpx.options(f"{server.url}/api/page-feedback", headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "null"

    posted = httpx.post(f"{server.url}/api/page-feedback", headers=origin,
                        json={"url": page, "rating": "up", "comment": "clear", "selector": "h1"})
    assert posted.status_code == 201
    assert posted.headers["access-control-allow-origin"] == "null"
    listed = httpx.get(f"{server.url}/api/page-feedback", params={"url": page}, headers=origin)
    assert listed.status_code == 200
    assert [e["comment"] for e in listed.json()["entries"]] == ["clear"]
    assert (server.settings.data_dir / "page-feedback.jsonl").exists()

    # Clearing is not the widget's to do: any site can send origin null.
    refused = httpx.delete(f"{server.url}/api/page-feedback", params={"url": page},
                           headers=origin)
    assert refused.status_code == 403
    cleared = httpx.delete(f"{server.url}/api/page-feedback", params={"url": page})
    assert cleared.json() == {"url": page, "cleared": 1}
    assert httpx.get(f"{server.url}/api/page-feedback", params={"url": page}).json()[
        "entries"] == []


@pytest.mark.parametrize("body", [{"url": "javascript:alert(1)", "rating": "up"},
                                  {"url": "https://example.com/"},
                                  {"rating": "up"},
                                  {"url": "https://example.com/", "rating": "sideways"}])
def test_bad_page_feedback_is_422_and_writes_nothing(server: RunningServer, body: dict) -> None:
    response = httpx.post(f"{server.url}/api/page-feedback", json=body)
    assert response.status_code == 422
    assert not (server.settings.data_dir / "page-feedback.jsonl").exists()


def test_listing_page_feedback_needs_a_url(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/api/page-feedback").status_code == 422


def test_the_widget_is_served_as_javascript_to_any_page(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/widget.js", headers={"Origin": "null"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "/api/page-feedback" in response.text
    assert "attachShadow" in response.text


@pytest.mark.parametrize("url, status", [
    ("file://[\u008f", 201),  # once a 500: urlsplit cannot parse it; any file path is fine
    ("http:///no-host", 422),
    ("ftp://example.com/x", 422),
])
def test_page_urls_are_checked_by_the_pattern_the_schema_publishes(
        server, url: str, status: int) -> None:
    response = httpx.post(f"{server.url}/api/page-feedback", json={"rating": "up", "url": url})
    assert response.status_code == status
