"""Crash safety (SPEC §7.4): a server killed mid-run resumes the run at its next start."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from events import schema as ev
from harness.settings import Settings
from tests.support.events import TS, append
from tests.support.processes import ServerProcess
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    # Started in a directory of its own so that no stray .env is read.
    process = ServerProcess(tmp_path)
    yield process
    process.stop()


def test_a_run_killed_mid_way_completes_after_restart_with_every_item_counted_once(
        server_process: ServerProcess) -> None:
    server_process.start()
    body = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
            "limit": 60, "concurrency": 2,
            "config": {"seed": 11, "latencyMs": 15, "chunks": 4, "faultRate": 0}}
    run_id = httpx.post(f"{server_process.url}/api/runs", json=body).json()["run"]["id"]

    def judged() -> int:
        return httpx.get(f"{server_process.url}/api/runs/{run_id}").json()["progress"]["completed"]
    wait_until(lambda: judged() >= 5, timeout_s=120, message="some items judged")
    server_process.kill()
    log_path = server_process.data_dir / "runs.jsonl"
    before = [json.loads(line) for line in log_path.read_text().splitlines()]
    judged_before = {e["sequence"] for e in before
                     if e["type"] == "item_judged" and e["runId"] == run_id}
    assert 0 < len(judged_before) < 60, "the kill came in the middle of the run"

    server_process.start()

    def finished() -> dict | None:
        detail = httpx.get(f"{server_process.url}/api/runs/{run_id}").json()
        return detail if detail["run"]["status"] == "completed" else None
    detail = wait_until(finished, timeout_s=120, message="the resumed run completed")
    assert detail["lifecycle"]["resumedCount"] == 1
    progress = detail["progress"]
    assert (progress["total"], progress["completed"], progress["faulted"]) == (60, 60, 0)
    assert progress["correct"] + progress["incorrect"] == 60
    assert (progress["awaiting"], progress["pending"]) == (0, 0)

    events = [json.loads(line) for line in log_path.read_text().splitlines()]
    judgments = Counter(e["sequence"] for e in events
                        if e["type"] == "item_judged" and e["runId"] == run_id)
    assert sorted(judgments) == list(range(1, 61))
    assert set(judgments.values()) == {1}, "no item was judged twice"
    restarted = [e["sequence"] for e in events[len(before):] if e["type"] == "item_started"]
    assert not judged_before & set(restarted), "items judged before the kill were kept"


def test_a_run_whose_cancel_a_crash_interrupted_ends_canceled_with_nothing_in_flight(
        server_factory: Callable[..., RunningServer], settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run_id = "run-own"
    append(settings.log_path,
           ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                         dataset_name="arithmetic", total=4, config={"concurrency": 2}, ts=TS),
           ev.RunStarted(run_id=run_id, ts=TS),
           *[ev.ItemStarted(run_id=run_id, sequence=s, prompt_text="Q", ts=TS) for s in (1, 2, 3)],
           ev.ItemAnswered(run_id=run_id, sequence=2, response_text="A", ts=TS),
           ev.ItemJudged(run_id=run_id, sequence=1, correct=True, ts=TS),
           ev.RunCancelRequested(run_id=run_id, ts=TS))  # ... and then the server died
    server = server_factory(settings)
    detail = wait_until(lambda: (d := httpx.get(f"{server.url}/api/runs/{run_id}").json())
                        ["run"]["status"] == "canceled" and d, message="the run ended")
    assert detail["counts"] == {"correct": 1, "incorrect": 0, "awaiting": 0, "faulted": 2,
                                "running": 0, "pending": 1}
    faulted = httpx.get(f"{server.url}/api/runs/{run_id}/items",
                        params={"state": "faulted"}).json()["groups"]["faulted"]
    assert [(i["sequence"], i["canceled"]) for i in faulted] == [(2, True), (3, True)]


def test_a_resume_after_a_kill_keeps_the_items_that_had_faulted(
        server_process: ServerProcess) -> None:
    server_process.start()
    body = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
            "limit": 60, "concurrency": 2,
            "config": {"seed": 5, "latencyMs": 15, "chunks": 2, "faultRate": 0.3}}
    run_id = httpx.post(f"{server_process.url}/api/runs", json=body).json()["run"]["id"]

    def progress() -> dict:
        return httpx.get(f"{server_process.url}/api/runs/{run_id}").json()["progress"]
    wait_until(lambda: progress()["faulted"] >= 3 and progress()["completed"] >= 3,
               timeout_s=120, message="some items faulted and some judged")
    server_process.kill()
    before = [json.loads(line) for line in server_process.log_path.read_text().splitlines()]
    faulted_before = {e["sequence"] for e in before
                      if e["type"] == "item_faulted" and e["runId"] == run_id}
    assert len({e["sequence"] for e in before if e.get("runId") == run_id
                and e["type"] in ("item_judged", "item_faulted")}) < 60, "killed mid-way"

    server_process.start()
    detail = wait_until(
        lambda: (d := httpx.get(f"{server_process.url}/api/runs/{run_id}").json())
        ["run"]["status"] not in ("pending", "running") and d,
        timeout_s=120, message="the resumed run finished")
    assert detail["run"]["status"] == "completed"
    events = [json.loads(line) for line in server_process.log_path.read_text().splitlines()]
    started_again = {e["sequence"] for e in events[len(before):]
                     if e["type"] == "item_started" and e["runId"] == run_id}
    assert not faulted_before & started_again, "faulted items were not run again"
    faulted = httpx.get(f"{server_process.url}/api/runs/{run_id}/items",
                        params={"state": "faulted", "limit": 100}).json()["groups"]["faulted"]
    assert faulted_before <= {item["sequence"] for item in faulted}


def test_a_resume_judges_answered_items_without_asking_the_model_again(
        server_factory: Callable[..., RunningServer], settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    run_id = "run-own"
    append(settings.log_path,
           ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                         dataset_name="arithmetic", total=4,
                         config={"concurrency": 2, "latencyMs": 0}, ts=TS),
           ev.RunStarted(run_id=run_id, ts=TS),
           *[ev.ItemStarted(run_id=run_id, sequence=s, prompt_text="Q", ts=TS) for s in (1, 2, 3)],
           ev.ItemJudged(run_id=run_id, sequence=1, correct=True, ts=TS),
           ev.ItemAnswered(run_id=run_id, sequence=2, response_text="Answer: A", ts=TS),
           ev.ItemFaulted(run_id=run_id, sequence=3, error="provider down", ts=TS))
    size_before = settings.log_path.stat().st_size  # ... and then the server died
    server = server_factory(settings)
    detail = wait_until(lambda: (d := httpx.get(f"{server.url}/api/runs/{run_id}").json())
                        ["run"]["status"] == "completed" and d, message="the run completed")
    assert detail["lifecycle"]["resumedCount"] == 1
    assert detail["counts"]["faulted"] == 1 and detail["counts"]["awaiting"] == 0
    with settings.log_path.open("rb") as log:
        log.seek(size_before)
        after = [json.loads(line) for line in log.read().splitlines()]
    assert sorted(e["sequence"] for e in after if e["type"] == "item_started") == [4]
    assert sorted(e["sequence"] for e in after if e["type"] == "item_judged") == [2, 4]
