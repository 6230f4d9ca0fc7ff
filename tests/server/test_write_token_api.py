"""HARNESS_TOKEN over a real server: writes need it, reads and streams do not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx

from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until

TOKEN = "s3cret-token"


def test_writes_need_the_token_and_reads_stay_open(
        settings: Settings, server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(replace(settings, token=TOKEN))
    append(server.log_path, *run_history("run-1"))
    wait_until(lambda: httpx.get(f"{server.url}/api/runs/run-1").status_code == 200,
               message="run visible without a token")
    before = server.log_path.read_bytes()

    refused = httpx.post(f"{server.url}/api/feedback", json={"runId": "run-1", "rating": "up"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(f"{server.url}/api/feedback", json={"runId": "run-1", "rating": "up"},
                       headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert server.log_path.read_bytes() == before

    accepted = httpx.post(f"{server.url}/api/feedback", json={"runId": "run-1", "rating": "up"},
                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert accepted.status_code == 201
    assert httpx.get(f"{server.url}/api/runs/run-1").json()["run"]["feedback"]["rating"] == "up"


def test_a_cross_origin_page_is_told_why_its_write_was_refused(
        settings: Settings, server_factory: Callable[..., RunningServer]) -> None:
    server = server_factory(replace(settings, token=TOKEN))
    preflight = httpx.options(f"{server.url}/api/page-feedback", headers={
        "Origin": "null", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    refused = httpx.post(f"{server.url}/api/page-feedback", headers={"Origin": "null"},
                         json={"url": "https://example.com/", "rating": "up"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "null"
