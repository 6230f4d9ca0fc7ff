"""The supervisor: a task the server needs that fails is restarted with backoff, health
counts the restarts and shows the failure while it lasts; nothing stays dead."""

from __future__ import annotations

import httpx

from harness.settings import Settings
from tests.support.servers import start_server
from tests.support.waiting import wait_until

RUN = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
       "limit": 5, "config": {"seed": 1, "latencyMs": 0, "faultRate": 0}}


def test_an_executor_that_cannot_start_is_restarted_and_then_runs_what_was_asked_meanwhile(
        settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    lock = settings.data_dir / "executor.lock"
    lock.mkdir()  # the executor's lock file cannot be opened: it fails at every start
    server = start_server(settings)
    try:
        def health() -> httpx.Response:
            return httpx.get(f"{server.url}/api/health")

        failing = health()
        assert failing.status_code == 503, "the server came up, saying what is wrong"
        assert "IsADirectoryError" in failing.json()["failures"]["executor"]
        wait_until(lambda: health().json()["tasks"]["executor"]["restarts"] >= 2,
                   message="the executor restarted again and again")
        created = httpx.post(f"{server.url}/api/runs", json=RUN)
        assert created.status_code == 201, "a run may be created while nothing executes"
        run_id = created.json()["run"]["id"]
        assert created.json()["run"]["status"] == "pending"

        lock.rmdir()
        recovered = wait_until(lambda: (h := health()).status_code == 200 and h,
                               timeout_s=15, message="health ok again").json()
        assert recovered["failures"] == {} and recovered["executor"]["executing"]
        executor = recovered["tasks"]["executor"]
        assert executor["failure"] is None and "IsADirectoryError" in executor["lastFailure"]
        assert executor["restarts"] >= 2
        wait_until(lambda: httpx.get(f"{server.url}/api/runs/{run_id}").json()
                   ["run"]["status"] == "completed", timeout_s=15,
                   message="the run asked for meanwhile ran")
    finally:
        server.stop()
