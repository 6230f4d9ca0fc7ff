"""``python run.py --demo``: a newcomer opens the dashboard on a live board."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx

from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


def test_the_demo_keeps_several_simulated_runs_going(
        server_factory: Callable[..., RunningServer], settings: Settings) -> None:
    server = server_factory(replace(settings, demo=True))

    def demo_runs() -> list[dict]:
        board = httpx.get(f"{server.url}/api/runs/active").json()
        return [snapshot for snapshot in board
                if snapshot["run"]["labels"].get("demo") == "true"
                and snapshot["run"]["status"] in ("pending", "running")]
    active = wait_until(lambda: len(demo_runs()) >= 3 and demo_runs(), message="3 demo runs")
    assert {snapshot["run"]["providerName"] for snapshot in active} == {"simulated"}
    moving = wait_until(lambda: [s for s in demo_runs() if s["progress"]["completed"] > 0],
                        message="a demo run making progress")
    assert moving


def test_a_demo_server_whose_log_is_truncated_keeps_following_it(
        server_factory: Callable[..., RunningServer], settings: Settings) -> None:
    server = server_factory(replace(settings, demo=True))
    wait_until(lambda: httpx.get(f"{server.url}/api/runs").json()["runs"], message="demo runs")
    server.log_path.write_bytes(b"")  # the demo's runs vanish from under it
    wait_until(lambda: httpx.get(f"{server.url}/api/health").json()["resets"] >= 1,
               message="the truncation noticed")
    append(server.log_path, *run_history("after-truncation"))
    wait_until(lambda: httpx.get(f"{server.url}/api/runs/after-truncation").status_code == 200,
               message="a line appended after the truncation read")
    wait_until(lambda: [s for s in httpx.get(f"{server.url}/api/runs").json()["runs"]
                        if s["run"]["labels"].get("demo") == "true"],
               message="the demo starting new runs in the new log")
    created = httpx.post(f"{server.url}/api/runs", json={
        "providerName": "simulated", "modelName": "m", "datasetName": "arithmetic",
        "limit": 2, "config": {"latencyMs": 0}})
    assert created.status_code == 201
    health = httpx.get(f"{server.url}/api/health")
    assert health.status_code == 200 and health.json()["failures"] == {}
