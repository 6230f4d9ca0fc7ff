"""The run queue: enqueued specs start in order, never more than HARNESS_MAX_RUNS at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from harness.settings import Settings
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


def spec(**config: Any) -> dict[str, Any]:
    return {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "logic",
            "limit": 6, "concurrency": 2,
            "config": {"seed": 3, "latencyMs": 100, "chunks": 3, "faultRate": 0, **config}}


def log_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_queued_runs_start_in_order_and_no_more_than_max_runs_at_once(
        server_factory: Callable[..., RunningServer], settings: Settings) -> None:
    server = server_factory(replace(settings, max_runs=2))
    queue_ids = []
    for _ in range(5):
        response = httpx.post(f"{server.url}/api/queue", json=spec())
        assert response.status_code == 201
        queue_ids.append(response.json()["queueId"])
    waiting = [q["queueId"] for q in httpx.get(f"{server.url}/api/queue").json()["queue"]]
    assert waiting == queue_ids[len(queue_ids) - len(waiting):], "the queue keeps its order"

    def all_done() -> bool:
        events = log_events(server.log_path)
        return sum(e["type"] == "run_finished" for e in events) == 5
    wait_until(all_done, timeout_s=30, message="every queued run finished")

    events = log_events(server.log_path)
    dispatched = [e["queueId"] for e in events if e["type"] == "queue_dispatched"]
    assert dispatched == queue_ids
    executing: set[str] = set()
    most = 0
    for event in events:
        if event["type"] == "run_created":
            executing.add(event["runId"])
        elif event["type"] == "run_finished":
            executing.discard(event["runId"])
        most = max(most, len(executing))
    assert most == 2
    assert httpx.get(f"{server.url}/api/queue").json()["queue"] == []


def test_a_removed_queue_item_never_runs(
        server_factory: Callable[..., RunningServer], settings: Settings) -> None:
    server = server_factory(replace(settings, max_runs=1))
    busy = httpx.post(f"{server.url}/api/runs", json=spec(latencyMs=200) | {"limit": 200}).json()
    queued = httpx.post(f"{server.url}/api/queue", json=spec()).json()["queueId"]
    assert [q["queueId"] for q in httpx.get(f"{server.url}/api/queue").json()["queue"]] == [queued]

    assert httpx.delete(f"{server.url}/api/queue/{queued}").status_code == 204
    assert httpx.get(f"{server.url}/api/queue").json()["queue"] == []
    again = httpx.delete(f"{server.url}/api/queue/{queued}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"

    httpx.post(f"{server.url}/api/runs/{busy['run']['id']}/cancel", timeout=10)
    runs = httpx.get(f"{server.url}/api/runs").json()
    assert len(runs["runs"]) == 1
    assert not any(e["type"] == "queue_dispatched" for e in log_events(server.log_path))
