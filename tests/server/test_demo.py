"""``python run.py --demo``: a newcomer opens the dashboard on a live board."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx

from harness.settings import Settings
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
