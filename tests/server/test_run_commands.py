"""Creating, canceling and retrying runs over a real loopback server (SPEC §7.1)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.sse import sse_messages
from tests.support.waiting import wait_until

SLOW = {"seed": 7, "latencyMs": 20, "faultRate": 0, "chunks": 4}


def spec(**overrides: Any) -> dict[str, Any]:
    body = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
            "limit": 12, "concurrency": 3, "config": {"seed": 1, "latencyMs": 0, "faultRate": 0}}
    body.update(overrides)
    return body


def run_of(server: RunningServer, run_id: str) -> dict[str, Any]:
    return httpx.get(f"{server.url}/api/runs/{run_id}").json()


def finished(server: RunningServer, run_id: str) -> dict[str, Any] | None:
    detail = run_of(server, run_id)
    return detail if detail["run"]["status"] not in ("pending", "running") else None


def check_invariants(progress: dict[str, int]) -> None:
    assert progress["completed"] == progress["correct"] + progress["incorrect"]
    assert (progress["completed"] + progress["awaiting"] + progress["faulted"]
            + progress["pending"]) == progress["total"]
    assert min(progress.values()) >= 0


def test_a_created_run_goes_pending_running_completed_with_sound_progress_throughout(
        server: RunningServer) -> None:
    statuses: list[str] = []
    progresses: list[dict[str, int]] = []
    with httpx.Client(base_url=server.url, timeout=10) as client, \
            client.stream("GET", "/api/events") as stream:
        created = client.post("/api/runs", json=spec(config=SLOW))
        assert created.status_code == 201
        run_id = created.json()["run"]["id"]
        assert created.headers["location"] == f"/api/runs/{run_id}"
        assert created.json()["progress"]["total"] == 12
        deadline = time.monotonic() + 20
        for message in sse_messages(stream):
            event, data = message.event, message.data
            assert time.monotonic() < deadline, "the run did not finish in time"
            if event == "run_status" and data["run"]["id"] == run_id:
                if not statuses or statuses[-1] != data["run"]["status"]:
                    statuses.append(data["run"]["status"])
            elif event == "run_progress" and data["runId"] == run_id:
                check_invariants(data["progress"])
                progresses.append(data["progress"])
            # The last judgement and the run's end may share one batch, whose messages
            # come in any order: wait for both.
            if statuses[-1:] == ["completed"] and progresses[-1:] and \
                    progresses[-1]["pending"] == 0:
                break
    assert statuses == ["pending", "running", "completed"]
    assert progresses[-1]["completed"] == 12
    assert progresses[-1]["pending"] == 0


def test_the_seed_alias_creates_a_run_too(server: RunningServer) -> None:
    created = httpx.post(f"{server.url}/api/run", json=spec())
    assert created.status_code == 201
    run_id = created.json()["run"]["id"]
    detail = wait_until(lambda: finished(server, run_id), message="run finished")
    assert detail["run"]["status"] == "completed"
    assert detail["progress"]["completed"] == 12


def test_a_limit_beyond_the_dataset_runs_the_whole_dataset(server: RunningServer) -> None:
    created = httpx.post(f"{server.url}/api/runs", json=spec(datasetName="logic", limit=100_000))
    assert created.status_code == 201
    assert created.json()["progress"]["total"] == 200


BAD_BODIES = [
    pytest.param(b"{not json", 400, "malformed_json", id="malformed-json"),
    pytest.param(b"[1, 2]", 422, "invalid", id="not-an-object"),
    pytest.param({**spec(), "providerName": "nope"}, 422, "invalid", id="unknown-provider"),
    pytest.param({**spec(), "datasetName": "no-such-set"}, 422, "invalid", id="unknown-dataset"),
    pytest.param({**spec(), "datasetName": "../etc/passwd"}, 422, "invalid", id="path-dataset"),
    pytest.param({k: v for k, v in spec().items() if k != "modelName"}, 422, "invalid",
                 id="missing-model"),
    pytest.param({**spec(), "limit": "ten"}, 422, "invalid", id="limit-wrong-type"),
    pytest.param({**spec(), "limit": 0}, 422, "invalid", id="limit-zero"),
    pytest.param({**spec(), "concurrency": 65}, 422, "invalid", id="concurrency-too-high"),
    pytest.param({**spec(), "labels": {"team": 3}}, 422, "invalid", id="label-not-a-string"),
    pytest.param({**spec(), "config": {"latencyMs": -5}}, 422, "invalid", id="config-range"),
    pytest.param({**spec(), "config": {"temperture": 1}}, 422, "invalid", id="config-unknown"),
    pytest.param(b"{" + b" " * (20 << 20) + b"}", 413, "body_too_large", id="20-MB-body"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_BODIES)
@pytest.mark.parametrize("path", ["/api/runs", "/api/queue"])
def test_a_bad_body_is_refused_with_the_error_shape_and_writes_nothing(
        server: RunningServer, path: str, body: Any, status: int, code: str) -> None:
    size = server.log_path.stat().st_size if server.log_path.exists() else 0
    if isinstance(body, bytes):
        response = httpx.post(f"{server.url}{path}", content=body,
                              headers={"content-type": "application/json"}, timeout=30)
    else:
        response = httpx.post(f"{server.url}{path}", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert (server.log_path.stat().st_size if server.log_path.exists() else 0) == size


def test_cancel_ends_in_flight_items_as_canceled_faults_and_a_second_cancel_is_409(
        server: RunningServer) -> None:
    created = httpx.post(f"{server.url}/api/runs",
                         json=spec(limit=200, config={**SLOW, "latencyMs": 50}))
    run_id = created.json()["run"]["id"]
    wait_until(lambda: run_of(server, run_id)["progress"]["completed"] >= 2,
               message="some items judged")
    canceled = httpx.post(f"{server.url}/api/runs/{run_id}/cancel", timeout=10)
    assert canceled.status_code == 200
    snapshot = canceled.json()
    assert snapshot["run"]["status"] == "canceled"
    assert snapshot["lifecycle"]["cancelRequestedAt"] is not None
    check_invariants(snapshot["progress"])
    assert snapshot["progress"]["pending"] > 0, "a canceled run's unstarted items stay pending"
    faulted = httpx.get(f"{server.url}/api/runs/{run_id}/items",
                        params={"state": "faulted"}).json()["groups"]["faulted"]
    assert faulted, "the items in flight end as faults"
    assert all(item["error"] == "canceled" and item["canceled"] for item in faulted)
    again = httpx.post(f"{server.url}/api/run/{run_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_retry_runs_a_canceled_run_to_completion_in_the_same_run(server: RunningServer) -> None:
    # One item at a time, ~2.4 s in all: at 3 at a time and 30 ms each, a loaded machine
    # let the run finish between the first judged item and the cancel (retry: 409).
    created = httpx.post(f"{server.url}/api/runs",
                         json=spec(limit=40, concurrency=1, config={**SLOW, "latencyMs": 60}))
    run_id = created.json()["run"]["id"]
    retry_while_active = httpx.post(f"{server.url}/api/runs/{run_id}/retry")
    assert retry_while_active.status_code == 409
    wait_until(lambda: run_of(server, run_id)["progress"]["completed"] >= 1,
               message="an item judged")
    httpx.post(f"{server.url}/api/runs/{run_id}/cancel", timeout=10)
    retried = httpx.post(f"{server.url}/api/runs/{run_id}/retry")
    assert retried.status_code == 200
    assert retried.json()["lifecycle"]["resumedCount"] == 1
    detail = wait_until(lambda: finished(server, run_id), timeout_s=30, message="retry finished")
    assert detail["run"]["status"] == "completed"
    assert detail["progress"]["completed"] == 40
    assert detail["lifecycle"]["resumedCount"] == 1
    check_invariants(detail["progress"])


def test_commands_on_an_unknown_run_are_404(server: RunningServer) -> None:
    for command in ("cancel", "retry"):
        response = httpx.post(f"{server.url}/api/runs/run-nope/{command}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def items_by_state(server: RunningServer, run_id: str) -> dict[str, list[dict[str, Any]]]:
    return httpx.get(f"{server.url}/api/runs/{run_id}/items",
                     params={"limit": 1000}).json()["groups"]


def test_retry_runs_only_the_faulted_items_again_and_keeps_the_judged_ones(
        server: RunningServer) -> None:
    created = httpx.post(f"{server.url}/api/runs",
                         json=spec(limit=30, config={"seed": 5, "latencyMs": 0, "faultRate": 0.5}))
    run_id = created.json()["run"]["id"]
    first = wait_until(lambda: finished(server, run_id), message="first pass finished")
    assert first["run"]["status"] == "completed"
    assert first["progress"]["faulted"] > 0
    before = items_by_state(server, run_id)
    judged_before = {item["sequence"] for item in before["correct"] + before["incorrect"]}

    assert httpx.post(f"{server.url}/api/runs/{run_id}/retry").status_code == 200
    wait_until(lambda: finished(server, run_id), message="retry finished")
    after = items_by_state(server, run_id)
    for item in after["correct"] + after["incorrect"] + after["faulted"]:
        expected_attempts = 1 if item["sequence"] in judged_before else 2
        assert item["attempts"] == expected_attempts, item


def test_a_run_whose_every_item_faults_has_failed(server: RunningServer) -> None:
    created = httpx.post(f"{server.url}/api/runs",
                         json=spec(limit=5, config={"seed": 5, "latencyMs": 0, "faultRate": 1}))
    detail = wait_until(lambda: finished(server, created.json()["run"]["id"]),
                        message="run finished")
    assert detail["run"]["status"] == "failed"
    assert "every item faulted" in detail["run"]["error"]
    assert detail["progress"]["faulted"] == 5


def test_simultaneous_retries_resume_the_run_once(server: RunningServer) -> None:
    created = httpx.post(f"{server.url}/api/runs",
                         json=spec(limit=50, config={**SLOW, "latencyMs": 500}))
    run_id = created.json()["run"]["id"]
    httpx.post(f"{server.url}/api/runs/{run_id}/cancel", timeout=10)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(
            lambda _: httpx.post(f"{server.url}/api/runs/{run_id}/retry").status_code, range(6)))
    assert sorted(statuses) == [200, 409, 409, 409, 409, 409]
    canceled = httpx.post(f"{server.url}/api/runs/{run_id}/cancel", timeout=10).json()
    assert canceled["lifecycle"]["resumedCount"] == 1


def test_a_run_created_right_after_the_log_was_removed_is_answered_with_itself(
        server: RunningServer) -> None:
    for number in range(3):
        append(server.log_path, *run_history(f"old-{number}"))
    server.settle()
    server.log_path.unlink()  # a rotation: the next append starts a new file
    created = httpx.post(f"{server.url}/api/runs", json={
        "providerName": "simulated", "modelName": "m", "datasetName": "arithmetic",
        "limit": 2, "config": {"latencyMs": 0}})
    assert created.status_code == 201, created.text
    run_id = created.json()["run"]["id"]
    assert httpx.get(f"{server.url}/api/runs/{run_id}").status_code == 200
    assert [s["run"]["id"] for s in httpx.get(f"{server.url}/api/runs").json()["runs"]] == [run_id]
