"""The supervisor: a task the server needs that fails is restarted with backoff, health
counts the restarts and shows the failure while it lasts; nothing stays dead."""

from __future__ import annotations

import httpx

from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


def test_a_log_reader_that_fails_is_restarted_and_recovers_when_the_log_does(
        server: RunningServer) -> None:
    append(server.log_path, *run_history("a"))
    server.settle()
    server.log_path.unlink()
    server.log_path.mkdir()  # the log replaced by something that cannot be read

    def health() -> httpx.Response:
        return httpx.get(f"{server.url}/api/health")

    failing = wait_until(lambda: (h := health()).status_code == 503 and h,
                         message="health reporting the failure").json()
    assert failing["status"] == "failed"
    assert "IsADirectoryError" in failing["failures"]["log reader"]
    wait_until(lambda: health().json()["tasks"]["log reader"]["restarts"] >= 2,
               message="the reader restarted again and again")
    assert health().status_code == 503, "still failing while the log cannot be read"

    server.log_path.rmdir()
    append(server.log_path, *run_history("b"))
    recovered = wait_until(lambda: (h := health()).status_code == 200 and h,
                           message="health ok again").json()
    assert recovered["failures"] == {}
    reader = recovered["tasks"]["log reader"]
    assert reader["failure"] is None and "IsADirectoryError" in reader["lastFailure"]
    wait_until(lambda: httpx.get(f"{server.url}/api/runs/b").status_code == 200,
               message="the new log is served")
    assert httpx.get(f"{server.url}/api/runs/a").status_code == 404
