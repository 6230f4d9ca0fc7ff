"""One executor per data directory (SPEC §7.4): two servers on one directory judge every
item once; the one without the lock serves reads, records commands, and says so."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ServerProcess
from tests.support.waiting import wait_until

RUN = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
       "limit": 30, "concurrency": 3,
       "config": {"seed": 3, "latencyMs": 10, "chunks": 2, "faultRate": 0}}


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    data_dir = tmp_path / "data"
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    first = ServerProcess(tmp_path / "first", data_dir=data_dir)
    second = ServerProcess(tmp_path / "second", data_dir=data_dir)
    first.start()
    second.start()
    yield first, second
    second.stop()
    first.stop()


def finished(server: ServerProcess, run_id: str) -> dict | None:
    detail = httpx.get(f"{server.url}/api/runs/{run_id}").json()
    return detail if detail["run"]["status"] not in ("pending", "running") else None


def completed(server: ServerProcess, run_id: str) -> int:
    """Items of the run completed as ``server`` shows it; 0 while it has not read the
    run yet (404: another server made it a moment ago)."""
    response = httpx.get(f"{server.url}/api/runs/{run_id}")
    return response.json()["progress"]["completed"] if response.status_code != 404 else 0


def log_events(server: ServerProcess) -> list[dict]:
    return [json.loads(line) for line in server.log_path.read_text().splitlines()]


def assert_judged_once(events: list[dict], run_id: str, total: int) -> None:
    judged = Counter(e["sequence"] for e in events
                     if e["type"] == "item_judged" and e["runId"] == run_id)
    assert sorted(judged) == list(range(1, total + 1))
    assert set(judged.values()) == {1}, f"items judged twice: {judged}"
    finishes = [e for e in events if e["type"] == "run_finished" and e["runId"] == run_id]
    assert len(finishes) == 1


def test_two_servers_on_one_directory_judge_every_item_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    servers = []
    for name in ("crashed", "first", "second"):
        (tmp_path / name).mkdir()
        servers.append(ServerProcess(tmp_path / name, data_dir=data_dir))
    crashed, first, second = servers
    try:
        # A run left half done: both servers start with it in the log to resume.
        crashed.start()
        slow = {**RUN, "config": {**RUN["config"], "latencyMs": 300}}
        interrupted = httpx.post(f"{crashed.url}/api/runs", json=slow).json()["run"]["id"]
        wait_until(lambda: completed(crashed, interrupted) >= 3, timeout_s=120,
                   message="the run is going")
        crashed.kill()
        first.launch()
        second.launch()
        first.wait_ready()
        second.wait_ready()
        runs = [interrupted]
        for server in (first, second, first, second):
            response = httpx.post(f"{server.url}/api/runs", json=RUN)
            assert response.status_code == 201, response.text
            runs.append(response.json()["run"]["id"])
        for run_id in runs:
            for server in (first, second):
                detail = wait_until(lambda s=server, r=run_id: finished(s, r), timeout_s=120,
                                    message=f"run {run_id} finished on {server.url}")
                assert detail["run"]["status"] == "completed"
                assert detail["progress"]["completed"] == 30
        events = log_events(first)
        for run_id in runs:
            assert_judged_once(events, run_id, 30)
        resumes = [e for e in events if e["type"] == "run_resumed" and e["runId"] == interrupted]
        assert len(resumes) == 1

        executing = [s for s in (first, second) if s.health()["executor"]["executing"]]
        assert len(executing) == 1
        owner = executing[0]
        follower = second if owner is first else first
        assert f"pid {owner.process.pid}" in (  # type: ignore[union-attr]
            follower.health()["executor"]["lockHolder"])
        assert "another process" in follower.output and "executes the runs" in follower.output
    finally:
        for server in servers:
            server.stop()


def test_a_cancel_through_the_server_that_does_not_execute_ends_the_run(
        two_servers: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = two_servers
    slow = {**RUN, "limit": 50, "concurrency": 1, "config": {**RUN["config"], "latencyMs": 200}}
    run_id = httpx.post(f"{second.url}/api/runs", json=slow).json()["run"]["id"]
    wait_until(lambda: completed(second, run_id) >= 1, timeout_s=120,
               message="the run is going")
    response = httpx.post(f"{second.url}/api/runs/{run_id}/cancel", timeout=150)
    assert response.status_code == 200, response.text
    assert response.json()["run"]["status"] == "canceled"
    assert finished(first, run_id)["run"]["status"] == "canceled"  # type: ignore[index]
    events = log_events(first)
    assert len([e for e in events if e["type"] == "run_finished" and e["runId"] == run_id]) == 1


def test_the_other_server_takes_over_when_the_executing_one_dies(
        two_servers: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = two_servers
    slow = {**RUN, "config": {**RUN["config"], "latencyMs": 100}}
    run_id = httpx.post(f"{first.url}/api/runs", json=slow).json()["run"]["id"]
    wait_until(lambda: completed(second, run_id) >= 3, timeout_s=120,
               message="the run is going")
    first.kill()
    wait_until(lambda: second.health()["executor"]["executing"], timeout_s=120,
               message="the second server executes")
    detail = wait_until(lambda: finished(second, run_id), timeout_s=120,
                        message="the run finished under the second server")
    assert detail["run"]["status"] == "completed"
    assert detail["lifecycle"]["resumedCount"] == 1
    assert_judged_once(log_events(second), run_id, 30)


def test_a_deleted_lock_file_never_leaves_two_servers_executing(
        two_servers: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = two_servers
    assert first.health()["executor"]["executing"]
    (first.data_dir / "executor.lock").unlink()
    wait_until(lambda: first.health()["tasks"]["executor"]["restarts"] >= 1, timeout_s=120,
               message="the holder stepped down when its lock file went")

    def executing() -> list[bool]:
        return [server.health()["executor"]["executing"] for server in (first, second)]
    wait_until(lambda: sorted(executing()) == [False, True], timeout_s=120,
               message="exactly one server executes again")
    runs = [httpx.post(f"{server.url}/api/runs", json=RUN).json()["run"]["id"]
            for server in (first, second)]
    for run_id in runs:
        wait_until(lambda r=run_id: finished(first, r), timeout_s=120,
                   message=f"run {run_id} finished")
    assert sorted(executing()) == [False, True]
    events = log_events(first)
    for run_id in runs:
        assert_judged_once(events, run_id, 30)
