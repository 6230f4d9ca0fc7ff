"""Time travel: a run read ``?at=`` a cursor or a time equals what the replay CLI folds
up to that cursor, and bad points are 4xx."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from events import schema as ev
from harness.cli import main as cli_main
from tests.support.events import append, run_history
from tests.support.processes import ServerProcess
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


def interleaved() -> list[ev.Event]:
    """Two runs whose events alternate in the log, and a retried item."""
    mine = run_history("mine", total=4, answers=(True, False, True, True))
    other = run_history("other", total=4, answers=(False, False, True, True))
    events: list[ev.Event] = []
    for a, b in zip(mine, other, strict=False):
        events += [a, b]
    events += [ev.ItemStarted(run_id="mine", sequence=2, prompt_text="again", ts=mine[0].ts),
               ev.RunLog(run_id="mine", level="warning", message="retrying #2", ts=mine[0].ts)]
    return events


@pytest.fixture
def travelled(server: RunningServer) -> RunningServer:
    append(server.log_path, *interleaved())
    server.settle()
    return server


def test_every_step_of_a_run_equals_the_cli_replay_until_that_cursor(travelled, capsys):
    url = f"{travelled.url}/api/runs/mine"
    count = httpx.get(f"{url}/history", params={"index": 0}).json()["count"]
    assert count == 2 + 4 * 4 + 1 + 2  # created, started, 4 items × 4, finished, 2 more
    for index in range(count):
        step = httpx.get(f"{url}/history", params={"index": index}).json()
        assert step["event"]["runId"] == "mine"
        served = httpx.get(f"{url}/items", params={"at": step["position"], "limit": 1000})
        assert served.status_code == 200, served.text
        assert cli_main(["replay", str(travelled.log_path), "--until", step["position"],
                         "--run", "mine", "--json"]) == 0
        assert orjson.loads(capsys.readouterr().out) == served.json(), index
        timeline = httpx.get(f"{url}/logs", params={"at": step["position"], "limit": 1000})
        assert cli_main(["replay", str(travelled.log_path), "--until", step["position"],
                         "--run", "mine", "--timeline", "--json"]) == 0
        assert orjson.loads(capsys.readouterr().out) == timeline.json(), index


def test_the_run_detail_at_a_cursor_shows_the_progress_then(travelled):
    url = f"{travelled.url}/api/runs/mine"
    step = httpx.get(f"{url}/history", params={"index": 5}).json()  # item 1 judged
    detail = httpx.get(url, params={"at": step["position"]}).json()
    assert detail["run"]["status"] == "running"
    assert detail["progress"]["completed"] == 1
    assert httpx.get(url).json()["run"]["status"] == "completed"


def test_a_time_before_the_run_is_a_404_and_bad_points_are_422(travelled):
    url = f"{travelled.url}/api/runs/mine"
    early = httpx.get(url, params={"at": "2020-01-01T00:00:00Z"})
    assert early.status_code == 404
    later = httpx.get(url, params={"at": "2030-01-01T00:00:00Z"})
    assert later.json()["run"]["status"] == "completed"
    for bad in ("yesterday", "2026-03-06T19:43:11", "deadbeef:12", "zz:1", "0" * 90):
        response = httpx.get(url, params={"at": bad})
        assert response.status_code == 422, bad
        assert response.json()["error"]["details"]["field"] == "at"
    assert httpx.get(f"{url}/history", params={"index": 999}).status_code == 404


def _steps(server: ServerProcess, run_id: str) -> list[tuple[object, object]]:
    """Each step of a run's history and its items as of that step."""
    url = f"{server.url}/api/runs/{run_id}"
    count = httpx.get(f"{url}/history", params={"index": 0}, timeout=10).json()["count"]
    steps = []
    for index in range(count):
        step = httpx.get(f"{url}/history", params={"index": index}, timeout=10).json()
        items = httpx.get(f"{url}/items", params={"at": step["position"], "limit": 1000},
                          timeout=10)
        steps.append((step, items.json()))
    return steps


def test_time_travel_after_a_restart_from_a_snapshot_equals_before(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.data_dir.mkdir()
    append(server.log_path, *interleaved())
    size = server.log_path.stat().st_size
    try:
        server.start()
        wait_until(lambda: server.health()["position"].endswith(f":{size}"), timeout_s=60,
                   message="the server read the whole log")
        before = _steps(server, "mine")
        server.stop()  # a clean shutdown writes a snapshot, where the next start begins
        assert list((server.data_dir / "snapshots").glob("*.snapshot"))
        server.start()
        wait_until(lambda: server.health()["position"].endswith(f":{size}"), timeout_s=60,
                   message="the restarted server is at the log's end")
        assert _steps(server, "mine") == before
        assert len(before) == 2 + 4 * 4 + 1 + 2
    finally:
        server.stop()
