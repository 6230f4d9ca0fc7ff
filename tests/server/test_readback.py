"""A finished run's details, let go from memory, come back from the log: every route
and a resuming stream show the runs of a server that shed them — while running, and
restarted from its snapshot — exactly as a server that never did."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx

from events import schema as ev
from tests.support.events import TS, append, run_history
from tests.support.processes import ServerProcess, serving
from tests.support.sse import ClientBoard, RawEventStream, fold_until, sse_stream
from tests.support.waiting import wait_until

RUNS = 40  # more than the finished runs that keep their board items (32)
SNAPSHOT_OFTEN = {"HARNESS_SNAPSHOT_EVENTS": "1", "HARNESS_SNAPSHOT_S": "0.2"}
NO_SNAPSHOTS = {"HARNESS_SNAPSHOT_EVENTS": "0"}


def _routes(run_id: str) -> list[str]:
    return [f"/api/runs/{run_id}", f"/api/runs/{run_id}/items?limit=1000",
            f"/api/runs/{run_id}/items/2", f"/api/runs/{run_id}/table?sort=latency&desc=true",
            f"/api/runs/{run_id}/table?q=question%203", f"/api/runs/{run_id}/stats",
            f"/api/runs/{run_id}/logs", f"/api/runs/{run_id}/export?format=jsonl",
            f"/api/runs/{run_id}/history?index=3"]


def _what_it_shows(server: ServerProcess) -> dict[str, object]:
    shown: dict[str, object] = {}
    for path in ["/api/runs/active?limit=24", "/api/data", "/api/runs?limit=200",
                 "/api/runs/compare?ids=run-0,run-1,run-39",
                 *[route for run in ("run-0", "run-1", "run-2", "run-20", "run-39")
                   for route in _routes(run)]]:
        response = httpx.get(f"{server.url}{path}", timeout=10)
        assert response.status_code == 200, (path, response.text)
        shown[path] = response.text
    shown["resume"] = anyio.run(_resumed_board, server.url)
    return shown


async def _resumed_board(url: str) -> dict:
    """What a client resuming from the log's start folds, up to the position now."""
    async with httpx.AsyncClient() as client:
        position = (await client.get(f"{url}/api/health")).json()["position"]
    board = ClientBoard()
    async with sse_stream(url, after=position.split(":")[0] + ":0") as stream:
        await fold_until(stream, board, position, timeout_s=30)
    return board.runs


def _snapshot_offsets(folder: Path) -> list[int]:
    """The log offsets the snapshots in ``folder`` were taken at (from their names)."""
    return [int(path.stem.rsplit("-", 1)[1]) for path in folder.glob("readmodels-*.snapshot")]


def _caught_up(server: ServerProcess) -> bool:
    size = server.log_path.stat().st_size
    return int(server.health()["position"].split(":")[1]) >= size


def test_shed_runs_read_back_from_the_log_show_what_a_full_fold_shows(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env=SNAPSHOT_OFTEN, ready_timeout_s=120)
    server.data_dir.mkdir()
    for number in range(RUNS):
        append(server.log_path, *run_history(
            f"run-{number}", total=5, answers=(True, False, True, number % 2 == 0),
            finish="failed" if number % 3 else "completed", prompt="Question {} of " + str(number)))
    snapshots = server.data_dir / "snapshots"
    try:
        server.start()
        wait_until(lambda: snapshots.is_dir() and any(snapshots.glob("*.snapshot")),
                   timeout_s=60, message="a snapshot (finished runs shed)")
        # Shed runs change again: feedback through the API, a log line from outside.
        response = httpx.post(f"{server.url}/api/feedback", json={
            "runId": "run-1", "rating": "down", "comment": "read back, then changed"})
        assert response.status_code in (200, 201), response.text
        append(server.log_path, ev.RunLog(run_id="run-2", level="warning", sequence=2,
                                          message="a late note", ts=TS))
        wait_until(lambda: _caught_up(server), timeout_s=30, message="caught up")
        # A snapshot taken after both changes sheds run-1 and run-2 again.
        end = server.log_path.stat().st_size
        wait_until(lambda: max(_snapshot_offsets(snapshots), default=0) >= end,
                   timeout_s=30, message="a snapshot after the changes")
        live = _what_it_shows(server)
        server.stop()  # a clean stop writes a snapshot: the next start loads every run shed
        server.start()
        wait_until(lambda: _caught_up(server), timeout_s=60, message="caught up")
        restarted = _what_it_shows(server)
        server.stop()
        shutil.rmtree(snapshots)
        server.env = NO_SNAPSHOTS  # the truth: a fold of the whole log that sheds nothing
        server.start()
        wait_until(lambda: _caught_up(server), timeout_s=60, message="caught up")
        truth = _what_it_shows(server)
    finally:
        server.stop()
    assert live == truth
    assert restarted == truth


@contextmanager
def _rewritten_in_place(tmp_path: Path) -> Iterator[tuple[ServerProcess, object, str]]:
    """A server whose shed runs run-1 and run-2 were rewritten in place in its log; with
    what it showed of run-1 before (read back, so cached) and its position then."""
    server = ServerProcess(tmp_path, env=SNAPSHOT_OFTEN, ready_timeout_s=120)
    server.data_dir.mkdir()
    for number in range(RUNS):  # the oldest shed their details
        append(server.log_path, *run_history(f"run-{number}", total=3,
                                             answers=(True, True, True)))
    # Past the bytes a reader checks before its offset (``events.tailer.TAIL_BYTES``).
    append(server.log_path, *run_history("run-last", total=3, answers=(True, True, True),
                                         prompt="x" * 5000 + " {}"))
    snapshots = server.data_dir / "snapshots"
    try:
        server.start()
        wait_until(lambda: snapshots.is_dir() and any(snapshots.glob("*.snapshot")),
                   timeout_s=60, message="a snapshot (finished runs shed)")
        before = httpx.get(f"{server.url}/api/runs/run-1/items", timeout=10).json()
        old_cursor = httpx.get(f"{server.url}/api/health", timeout=10).json()["position"]
        # Rewritten in place, the same length and first line: every verdict of run-1
        # and run-2 turned, which a reader watching sizes, first lines and the bytes
        # just before its offset cannot see.
        data = server.log_path.read_bytes()
        first, last = data.index(b'"runId":"run-1"'), data.index(b'"runId":"run-last"')
        turned = (data[:first] + data[first:last].replace(b'"correct":true', b'"correct":fals')
                  + data[last:])
        with server.log_path.open("r+b") as file:
            file.write(turned)
        yield server, before, old_cursor
    finally:
        server.stop()


def test_a_log_rewritten_in_place_never_serves_a_shed_run_as_it_was(tmp_path: Path) -> None:
    with _rewritten_in_place(tmp_path) as (server, before, old_cursor):
        # run-1 was read back before (it may be answered from that read while the
        # server does not know); run-2 is read back now.
        response = httpx.get(f"{server.url}/api/runs/run-2/items", timeout=10)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "history_changed"
        # Seen once, the rewrite is folded: the server shows the log as it is now, as a
        # server started on it shows it, and a cursor of the old history is reset.
        wait_until(lambda: httpx.get(f"{server.url}/api/runs/run-2/items",
                                     timeout=10).status_code == 200,
                   timeout_s=30, message="the read models rebuilt from the rewritten log")
        rebuilt = _runs_shown(server)
        assert rebuilt["/api/runs/run-1/items"] != before
        (tmp_path / "fresh" / "data").mkdir(parents=True)
        shutil.copy(server.log_path, tmp_path / "fresh" / "data" / "runs.jsonl")
        with serving(tmp_path / "fresh", env=NO_SNAPSHOTS) as fresh:
            assert _runs_shown(fresh) == rebuilt
        anyio.run(_first_message_after, server.url, old_cursor)


def test_a_stream_whose_resume_meets_the_rewrite_ends_at_its_last_id_and_is_counted(
        tmp_path: Path) -> None:
    with _rewritten_in_place(tmp_path) as (server, _, old_cursor):
        # Resuming from the start reads the shed runs back, run-2 among them.
        resuming = RawEventStream(server.url, after=old_cursor.split(":")[0] + ":0")
        try:
            resuming.read_to_end()  # its last chunk: ended properly, to resume from
        finally:
            resuming.close()
        assert httpx.get(f"{server.url}/api/health", timeout=10).json()[
            "subscribers"]["sseCutShort"] == 1


def _runs_shown(server: ServerProcess) -> dict[str, object]:
    return {path: httpx.get(f"{server.url}{path}", timeout=10).json()
            for run in ("run-0", "run-1", "run-2")
            for path in (f"/api/runs/{run}", f"/api/runs/{run}/items")}


async def _first_message_after(url: str, cursor: str) -> None:
    async with sse_stream(url, after=cursor) as stream:
        assert (await stream.next()).event == "reset"
