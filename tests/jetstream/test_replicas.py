"""Replicas: real ``python run.py`` processes on one JetStream stream, real clients.

A client resumes on another replica with its last event id; a run whose replica dies is
finished by another with no item judged twice; a restarted nats-server is an outage the
replicas show and recover from; a purged stream is a ``reset``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import httpx
import msgspec
import nats
import pytest

from events.jetstream import JetStreamLog
from events.log import RecordBatch
from tests.support.nats import NatsServer
from tests.support.processes import HTTP, ServerProcess
from tests.support.sse import ClientBoard, fold_until, server_board, sse_stream
from tests.support.waiting import wait_until

LEASE_TTL_S = 2
RUN = {"providerName": "simulated", "modelName": "gpt-test", "datasetName": "arithmetic",
       "limit": 40, "concurrency": 2,
       "config": {"seed": 5, "latencyMs": 40, "chunks": 3, "faultRate": 0}}

Replicas = Callable[..., ServerProcess]


@pytest.fixture
def replicas(nats_server: NatsServer, tmp_path: Path) -> Iterator[Replicas]:
    """Start replicas on the ``HARNESS`` stream of ``nats_server``; all stopped at the end."""
    started: list[ServerProcess] = []

    def start(**env: str) -> ServerProcess:
        folder = tmp_path / f"replica-{len(started)}"
        folder.mkdir()
        replica = ServerProcess(folder, env={
            "HARNESS_LOG": nats_server.log_url(), "HARNESS_LEASE_TTL_S": str(LEASE_TTL_S),
            **env})
        replica.start()
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.stop()


def stream_events(server: NatsServer) -> list[dict]:
    async def read() -> list[dict]:
        log = JetStreamLog(server.log_url())
        reader = log.reader()
        events: list[dict] = []
        while (batch := await reader.read()) is not None:
            if isinstance(batch, RecordBatch):
                events.extend(msgspec.json.decode(raw) for raw in batch.raws)
        await log.aclose()
        return events
    return anyio.run(read)


def run_detail(replica: ServerProcess, run_id: str) -> dict | None:
    """The run as ``replica`` shows it; ``None`` while it has not read the run yet."""
    response = HTTP.get(f"{replica.url}/api/runs/{run_id}", timeout=10)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def judged(replica: ServerProcess, run_id: str) -> int:
    detail = run_detail(replica, run_id)
    return detail["progress"]["completed"] if detail else 0


def status(replica: ServerProcess, run_id: str) -> str | None:
    detail = run_detail(replica, run_id)
    return detail["run"]["status"] if detail else None


def finished(replica: ServerProcess, run_id: str) -> dict | None:
    detail = run_detail(replica, run_id)
    return detail if detail and detail["run"]["status"] not in ("pending", "running") else None


@pytest.mark.anyio
async def test_a_client_that_followed_a_killed_replica_resumes_on_another_gaplessly(
        replicas: Replicas) -> None:
    first, second = replicas(), replicas()
    board = ClientBoard()
    async with httpx.AsyncClient(timeout=10) as client:
        start = (await client.get(f"{first.url}/api/data")).json()["position"]
        async with sse_stream(first.url, after=start) as stream:
            run_id = (await client.post(f"{first.url}/api/runs", json=RUN)).json()["run"]["id"]
            while not board.runs.get(run_id, {}).get("items") or len(
                    board.runs[run_id]["items"]) < 5:
                board.apply(await stream.next(timeout_s=20))
            last_id = stream.last_id
            first.kill()  # mid-run, mid-stream
        assert last_id is not None
        async with sse_stream(second.url, last_event_id=last_id) as stream:
            detail = await anyio.to_thread.run_sync(
                lambda: wait_until(lambda: finished(second, run_id), timeout_s=60,
                                   message="the other replica finished the run"))
            assert detail["run"]["status"] == "completed"
            position = (await client.get(f"{second.url}/api/data")).json()["position"]
            await fold_until(stream, board, position, timeout_s=20)
        rest, rest_position = await server_board(client, second.url)
        assert rest_position == position
        assert board.runs == rest  # exactly what a fresh read of the other replica shows
        fresh = (await client.get(f"{second.url}/api/data")).json()
        snapshot = next(run for run in fresh["active"] if run["run"]["id"] == run_id)
        assert board.runs[run_id]["progress"] == snapshot["progress"]
        assert board.runs[run_id]["run"] == snapshot["run"]


def test_a_run_whose_replica_dies_is_finished_by_another_with_no_item_judged_twice(
        replicas: Replicas, nats_server: NatsServer) -> None:
    first, second = replicas(), replicas()
    run_id = httpx.post(f"{first.url}/api/runs", json=RUN, timeout=10).json()["run"]["id"]
    wait_until(lambda: judged(first, run_id) >= 5, timeout_s=30, message="some items judged")
    first.kill()
    detail = wait_until(lambda: finished(second, run_id), timeout_s=60,
                        message="the surviving replica finished the run")
    assert detail["run"]["status"] == "completed"
    assert detail["lifecycle"]["resumedCount"] == 1
    assert detail["progress"]["completed"] == 40
    events = [e for e in stream_events(nats_server) if e.get("runId") == run_id]
    judgments = Counter(e["sequence"] for e in events if e["type"] == "item_judged")
    assert sorted(judgments) == list(range(1, 41))
    assert set(judgments.values()) == {1}, "no item was judged twice"
    assert [e["type"] for e in events].count("run_resumed") == 1


def test_a_cancel_sent_to_another_replica_stops_the_run_where_it_executes(
        replicas: Replicas) -> None:
    first, second = replicas(), replicas()
    slow = {**RUN, "limit": 200, "config": {**RUN["config"], "latencyMs": 200}}
    run_id = httpx.post(f"{first.url}/api/runs", json=slow, timeout=10).json()["run"]["id"]
    wait_until(lambda: status(second, run_id) == "running", timeout_s=20,
               message="the other replica sees the run running")
    response = httpx.post(f"{second.url}/api/runs/{run_id}/cancel", timeout=40)
    assert response.status_code == 200, response.text
    detail = wait_until(lambda: finished(first, run_id), timeout_s=20, message="run ended")
    assert detail["run"]["status"] == "canceled"


def test_replicas_show_a_nats_outage_while_it_lasts_and_catch_up_after_it(
        replicas: Replicas, nats_server: NatsServer) -> None:
    # Publishes the outage cut off are sent again when their acks are this late.
    log = f"{nats_server.log_url()}?ack_timeout=2"
    first, second = replicas(HARNESS_LOG=log), replicas(HARNESS_LOG=log)
    load = {**RUN, "limit": 300, "concurrency": 4,
            "config": {**RUN["config"], "latencyMs": 5}}
    run_id = httpx.post(f"{first.url}/api/runs", json=load, timeout=10).json()["run"]["id"]
    wait_until(lambda: judged(second, run_id) >= 5, timeout_s=30, message="load under way")
    nats_server.stop()
    for replica in (first, second):
        health = wait_until(lambda r=replica: not (h := r.health())["logConnection"]["connected"]
                            and h, timeout_s=30, message="health shows the outage")
        assert health["status"] in ("degraded", "failed"), health
        assert health["logConnection"]["downSince"]
    nats_server.start()
    for replica in (first, second):
        health = wait_until(lambda r=replica: (h := r.health())["status"] == "ok"
                            and h, timeout_s=60, message="health shows the recovery")
        assert health["logConnection"]["connected"]
        assert health["logConnection"]["outages"] == 1
    wait_until(lambda: finished(first, run_id), timeout_s=90, message="the run went on")
    for replica in (first, second):
        # The stream's end as it is at each look: a record may still land after the run
        # finished (a replica's last log line), so a position taken once can be passed.
        wait_until(lambda r=replica: r.health()["position"] == stream_position(nats_server),
                   timeout_s=30, message="the replica caught up with the stream")
    assert first.get(f"/api/runs/{run_id}") == second.get(f"/api/runs/{run_id}")


def stream_position(server: NatsServer) -> str:
    async def current() -> str:
        log = JetStreamLog(server.log_url())
        try:
            return str(await log.current())
        finally:
            await log.aclose()
    return anyio.run(current)


@pytest.mark.anyio
async def test_a_purged_stream_sends_clients_a_reset(replicas: Replicas,
                                                     nats_server: NatsServer) -> None:
    replica = replicas()
    async with httpx.AsyncClient(timeout=10) as client:
        run_id = (await client.post(f"{replica.url}/api/runs",
                                    json={**RUN, "limit": 2})).json()["run"]["id"]
        await anyio.to_thread.run_sync(lambda: wait_until(lambda: finished(replica, run_id),
                                                          timeout_s=30, message="run done"))
        old = (await client.get(f"{replica.url}/api/data")).json()["position"]
        async with sse_stream(replica.url, after=old) as stream:
            connection = await nats.connect(nats_server.url)
            await connection.jetstream().purge_stream("HARNESS")
            await connection.close()
            while (message := await stream.next(timeout_s=20)).event != "reset":
                pass
        assert message.data["position"] != old
        async with sse_stream(replica.url, last_event_id=old) as stream:
            assert (await stream.next(timeout_s=20)).event == "reset"
        assert (await client.get(f"{replica.url}/api/runs")).json()["runs"] == []


def test_a_browser_harness_pack_made_by_one_replica_imports_on_another(
        replicas: Replicas) -> None:
    first, second = replicas(), replicas()
    pack = httpx.post(f"{first.url}/api/browser-harness/packs", timeout=10, json={
        "datasetName": "arithmetic", "modelName": "chat-web", "limit": 2}).json()
    captures = [{"sequence": item["sequence"], "responseText": "Answer: A"}
                for item in pack["items"]]
    imported = httpx.post(f"{second.url}/api/browser-harness/imports", timeout=10,
                          json={"pack": pack, "captures": captures})
    assert imported.status_code == 201, imported.text
    run_id = imported.json()["run"]["id"]
    wait_until(lambda: HTTP.get(f"{first.url}/api/runs/{run_id}").status_code == 200,
               timeout_s=10, message="the import shows on the replica that made the pack")


def test_retries_sent_at_once_resume_the_run_once(replicas: Replicas,
                                                  nats_server: NatsServer) -> None:
    replica = replicas()
    slow = {**RUN, "limit": 200, "config": {**RUN["config"], "latencyMs": 200}}
    run_id = httpx.post(f"{replica.url}/api/runs", json=slow, timeout=10).json()["run"]["id"]
    wait_until(lambda: judged(replica, run_id) >= 1, timeout_s=20, message="an item judged")
    httpx.post(f"{replica.url}/api/runs/{run_id}/cancel", timeout=40)
    wait_until(lambda: finished(replica, run_id), timeout_s=20, message="run canceled")

    async def retry_at_once() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            url = f"{replica.url}/api/runs/{run_id}/retry"
            answers = await asyncio.gather(*(client.post(url) for _ in range(4)))
        return sorted(answer.status_code for answer in answers)

    assert asyncio.run(retry_at_once()) == [200, 409, 409, 409]
    wait_until(lambda: replica.get(f"/api/runs/{run_id}")["lifecycle"]["resumedCount"] >= 1,
               timeout_s=20, message="the run resumed")
    events = [e for e in stream_events(nats_server) if e.get("runId") == run_id]
    assert [e["type"] for e in events].count("run_resumed") == 1
