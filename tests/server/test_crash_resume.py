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


def start_sixty_items(process: ServerProcess, *, seed: int, chunks: int,
                      fault_rate: float) -> str:
    """Start a simulated run of 60 items, two at a time, on ``process``; its id."""
    body = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
            "limit": 60, "concurrency": 2,
            "config": {"seed": seed, "latencyMs": 15, "chunks": chunks, "faultRate": fault_rate}}
    return httpx.post(f"{process.url}/api/runs", json=body).json()["run"]["id"]


def run_detail(url: str, run_id: str) -> dict:
    return httpx.get(f"{url}/api/runs/{run_id}").json()


def wait_for_status(url: str, run_id: str, done: Callable[[str], bool], *,
                    timeout_s: float = 10) -> dict:
    """The run's detail once ``done`` holds for its status."""
    def ended() -> dict:
        detail = run_detail(url, run_id)
        return detail if done(detail["run"]["status"]) else {}
    return wait_until(ended, timeout_s=timeout_s, message="the run ended")


def log_events(log_path: Path) -> list[dict]:
    return [json.loads(line) for line in log_path.read_text().splitlines()]


def cut_short(log_path: Path, run_id: str, *after_three_started: ev.Event,
              config: dict) -> None:
    """Log a run of four items that a crash cut short: items 1-3 started, then
    ``after_three_started``, and no more."""
    append(log_path,
           ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                         dataset_name="arithmetic", total=4, config=config, ts=TS),
           ev.RunStarted(run_id=run_id, ts=TS),
           *[ev.ItemStarted(run_id=run_id, sequence=s, prompt_text="Q", ts=TS) for s in (1, 2, 3)],
           *after_three_started)


def test_a_run_killed_mid_way_completes_after_restart_with_every_item_counted_once(
        server_process: ServerProcess) -> None:
    server_process.start()
    run_id = start_sixty_items(server_process, seed=11, chunks=4, fault_rate=0)
    wait_until(lambda: run_detail(server_process.url, run_id)["progress"]["completed"] >= 5,
               timeout_s=120, message="some items judged")
    server_process.kill()
    log_path = server_process.log_path
    before = log_events(log_path)
    judged_before = {e["sequence"] for e in before
                     if e["type"] == "item_judged" and e["runId"] == run_id}
    assert 0 < len(judged_before) < 60, "the kill came in the middle of the run"

    server_process.start()
    detail = wait_for_status(server_process.url, run_id, lambda status: status == "completed",
                             timeout_s=120)
    assert detail["lifecycle"]["resumedCount"] == 1
    progress = detail["progress"]
    assert (progress["total"], progress["completed"], progress["faulted"]) == (60, 60, 0)
    assert progress["correct"] + progress["incorrect"] == 60
    assert (progress["awaiting"], progress["pending"]) == (0, 0)

    events = log_events(log_path)
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
    cut_short(settings.log_path, run_id,
              ev.ItemAnswered(run_id=run_id, sequence=2, response_text="A", ts=TS),
              ev.ItemJudged(run_id=run_id, sequence=1, correct=True, ts=TS),
              ev.RunCancelRequested(run_id=run_id, ts=TS), config={"concurrency": 2})
    server = server_factory(settings)
    detail = wait_for_status(server.url, run_id, lambda status: status == "canceled")
    assert detail["counts"] == {"correct": 1, "incorrect": 0, "awaiting": 0, "faulted": 2,
                                "running": 0, "pending": 1}
    faulted = httpx.get(f"{server.url}/api/runs/{run_id}/items",
                        params={"state": "faulted"}).json()["groups"]["faulted"]
    assert [(i["sequence"], i["canceled"]) for i in faulted] == [(2, True), (3, True)]


def test_a_resume_after_a_kill_keeps_the_items_that_had_faulted(
        server_process: ServerProcess) -> None:
    server_process.start()
    run_id = start_sixty_items(server_process, seed=5, chunks=2, fault_rate=0.3)
    wait_until(lambda: (p := run_detail(server_process.url, run_id)["progress"])["faulted"] >= 3
               and p["completed"] >= 3, timeout_s=120, message="some items faulted and some judged")
    server_process.kill()
    before = log_events(server_process.log_path)
    faulted_before = {e["sequence"] for e in before
                      if e["type"] == "item_faulted" and e["runId"] == run_id}
    assert len({e["sequence"] for e in before if e.get("runId") == run_id
                and e["type"] in ("item_judged", "item_faulted")}) < 60, "killed mid-way"

    server_process.start()
    detail = wait_for_status(server_process.url, run_id,
                             lambda status: status not in ("pending", "running"), timeout_s=120)
    assert detail["run"]["status"] == "completed"
    events = log_events(server_process.log_path)
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
    cut_short(settings.log_path, run_id,
              ev.ItemJudged(run_id=run_id, sequence=1, correct=True, ts=TS),
              ev.ItemAnswered(run_id=run_id, sequence=2, response_text="Answer: A", ts=TS),
              ev.ItemFaulted(run_id=run_id, sequence=3, error="provider down", ts=TS),
              config={"concurrency": 2, "latencyMs": 0})
    size_before = settings.log_path.stat().st_size
    server = server_factory(settings)
    detail = wait_for_status(server.url, run_id, lambda status: status == "completed")
    assert detail["lifecycle"]["resumedCount"] == 1
    assert detail["counts"]["faulted"] == 1 and detail["counts"]["awaiting"] == 0
    with settings.log_path.open("rb") as log:
        log.seek(size_before)
        after = [json.loads(line) for line in log.read().splitlines()]
    assert sorted(e["sequence"] for e in after if e["type"] == "item_started") == [4]
    assert sorted(e["sequence"] for e in after if e["type"] == "item_judged") == [2, 4]
