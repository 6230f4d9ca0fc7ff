"""A disk that fills mid-append (SPEC §3, issue #9): commands answer 507 in the SPEC's
shape and write nothing, the executor waits and resumes the run once writes work again,
and the log replays to exactly what the server answered."""

from __future__ import annotations

import errno
import json
import resource
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import REPO, ServerProcess
from tests.support.waiting import wait_until

FILE_SIZE_HEADROOM = 60
"""Bytes left under the file-size limit: less than any one event's line, so the next
append is cut in its middle and every later one is refused."""


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path)
    yield process
    process.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of the test's own (needs root)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` until it refuses another byte."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler


def replay(log_path: Path, *args: str) -> dict:
    """What ``python -m harness replay --json`` makes of the log, with no server."""
    done = subprocess.run([sys.executable, "-m", "harness", "replay", str(log_path), *args,
                           "--json"], cwd=REPO, capture_output=True, check=True)
    return json.loads(done.stdout)


def assert_log_replays_to_what_the_server_shows(server: ServerProcess, run_id: str) -> None:
    health = server.health()
    assert health["position"].endswith(f":{server.log_path.stat().st_size}")
    board = replay(server.log_path)
    assert board["position"] == health["position"]
    assert board["runs"] == httpx.get(f"{server.url}/api/runs").json()["runs"]
    assert replay(server.log_path, "--run", run_id) == httpx.get(
        f"{server.url}/api/runs/{run_id}/items", params={"limit": 1000}).json()
    assert health["problems"] == {}, "no half-written append was left in the log"


def assert_insufficient_storage(response: httpx.Response) -> None:
    assert response.status_code == 507, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_storage"
    assert set(error) == {"code", "message", "details"}


def test_a_run_that_hits_the_file_size_limit_waits_and_completes_once_it_is_lifted(
        server_process: ServerProcess) -> None:
    server_process.start()
    url = server_process.url
    body = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
            "limit": 60, "concurrency": 2,
            "config": {"seed": 7, "latencyMs": 20, "chunks": 3, "faultRate": 0}}
    run_id = httpx.post(f"{url}/api/runs", json=body).json()["run"]["id"]
    wait_until(lambda: httpx.get(f"{url}/api/runs/{run_id}").json()["progress"]["completed"] >= 5,
               timeout_s=120, message="some items judged")
    pid = server_process.process.pid  # type: ignore[union-attr]
    limit = server_process.log_path.stat().st_size + FILE_SIZE_HEADROOM
    # Only the soft limit: raising a hard limit again needs a capability a container may lack.
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        wait_until(lambda: run_id in server_process.health()["executor"]["waitingToWrite"],
                   timeout_s=120, message="the run waiting for the log to take writes")
        assert_insufficient_storage(httpx.post(f"{url}/api/runs", json=body))
        assert_insufficient_storage(httpx.post(f"{url}/api/feedback",
                                               json={"runId": run_id, "rating": "up"}))
        assert httpx.get(f"{url}/api/runs/{run_id}").status_code == 200
        assert server_process.health()["status"] == "ok"
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    detail = wait_until(
        lambda: (d := httpx.get(f"{url}/api/runs/{run_id}").json())
        ["run"]["status"] not in ("pending", "running") and d,
        timeout_s=120, message="the run finished once writes worked again")
    assert detail["run"]["status"] == "completed"
    assert detail["progress"]["completed"] == 60
    assert detail["lifecycle"]["resumedCount"] == 1
    assert server_process.health()["executor"]["waitingToWrite"] == {}
    events = [json.loads(line) for line in server_process.log_path.read_text().splitlines()]
    assert [e["runId"] for e in events if e["type"] == "run_created"] == [run_id]
    judged = Counter(e["sequence"] for e in events if e["type"] == "item_judged")
    assert sorted(judged) == list(range(1, 61)) and set(judged.values()) == {1}
    assert_log_replays_to_what_the_server_shows(server_process, run_id)


def test_an_import_refused_by_a_full_disk_is_made_whole_by_its_retry(
        tmp_path: Path, small_disk: Path) -> None:
    server = ServerProcess(tmp_path, data_dir=small_disk / "data")
    server.start()
    try:
        pack = httpx.post(f"{server.url}/api/browser-harness/packs",
                          json={"datasetName": "arithmetic", "modelName": "chat-web",
                                "limit": 200}).json()
        captures = [{"sequence": n, "responseText": f"The answer is B ({n})"}
                    for n in range(1, 201)]
        body = {"pack": pack, "captures": captures}
        earlier = httpx.post(f"{server.url}/api/browser-harness/imports",
                             json={"pack": pack, "captures": captures[:1]})
        assert earlier.status_code == 201
        filler = fill(small_disk)
        # The log's last page has room left, so the import is cut in its middle.
        assert server.log_path.stat().st_size % 4096 != 0
        refused = httpx.post(f"{server.url}/api/browser-harness/imports", json=body)
        assert_insufficient_storage(refused)
        assert_insufficient_storage(httpx.post(f"{server.url}/api/page-feedback",
                                               json={"url": "https://a.test/", "rating": "up"}))
        filler.unlink()

        retried = httpx.post(f"{server.url}/api/browser-harness/imports", json=body)
        assert retried.status_code == 201, "the refused import left nothing behind"
        snapshot = retried.json()
        assert snapshot["run"]["status"] == "completed"
        progress = snapshot["progress"]
        assert progress["completed"] + progress["faulted"] == 200
        assert_log_replays_to_what_the_server_shows(server, snapshot["run"]["id"])
    finally:
        server.stop()
        shutil.rmtree(small_disk / "data", ignore_errors=True)
