"""Every typed method of ``harness.client`` against a real server process.

Each answer must decode into the server's own type *and* encode back to exactly the
JSON the server sent: a field added, renamed or retyped on one side only fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import msgspec
import pytest

from harness.client import FROM_START, ApiError, AsyncHarness, Harness, RunStatusMessage
from harness.packs import Capture
from projections.messages import RunItemMessage, RunProgressMessage
from tests.support.processes import ServerProcess, serving
from tests.support.waiting import wait_until

SLOW = {"seed": 1, "latencyMs": 5000, "faultRate": 0}
FAST = {"seed": 2, "latencyMs": 0, "faultRate": 0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # One run at a time, so that a queued spec stays queued while a slow run goes on.
    with serving(tmp_path_factory.mktemp("client-api"),
                 env={"HARNESS_MAX_RUNS": "1"}) as process:
        yield process


class RoundTrips:
    """Calls a client method by name and checks its result against the raw body."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.raw: httpx.Response | None = None
        self.called: set[str] = set()
        harness.http.event_hooks["response"].append(self._keep)

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.raw = response

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        value = getattr(self.harness, name)(*args, **kwargs)
        self.called.add(name)
        assert self.raw is not None
        if isinstance(value, bytes):
            assert value == self.raw.content
        elif value is None:
            assert self.raw.content == b""
        else:
            again = msgspec.json.decode(msgspec.json.encode(value))  # the JSON it encodes to
            assert again == msgspec.json.decode(self.raw.content), name
        return value


def finished(harness: Harness, run_id: str) -> bool:
    return harness.run(run_id).run.status not in ("pending", "running")


def test_every_typed_method_round_trips_against_the_live_server(server: ServerProcess) -> None:
    with Harness(server.url) as harness:
        call = RoundTrips(harness)
        assert call("health").status == "ok"
        assert "arithmetic" in {info.name for info in call("datasets")}

        first = call("create_run", provider_name="simulated", model_name="m-1",
                     dataset_name="arithmetic", limit=4, labels={"team": "a"}, config=FAST)
        wait_until(lambda: finished(harness, first.run.id))
        second = call("create_run", provider_name="simulated", model_name="m-2",
                      dataset_name="arithmetic", limit=4, config=FAST)
        wait_until(lambda: finished(harness, second.run.id))
        run_id = first.run.id

        assert call("run", run_id).counts["correct"] + call("run", run_id).counts[
            "incorrect"] == 4
        assert call("items", run_id, state=["correct", "incorrect"], limit=2).next_cursor == "2"
        assert call("logs", run_id, level="info").entries
        assert {r.id for r in call("compare", run_id, second.run.id).runs} == {
            run_id, second.run.id}
        assert call("export", run_id, format="csv").startswith(b"runId,")
        assert call("export", run_id).count(b"\n") == 4
        assert [s.run.id for s in call("board", limit=2)] == [second.run.id, run_id]
        assert call("data").totals.runs == 2
        page = call("archive", labels={"team": "a"}, limit=1)
        assert [summary.run.id for summary in page.runs] == [run_id]
        assert call("archive", status=["completed"], limit=1).next_cursor is not None
        assert [s.run.id for s in harness.iter_archive(limit=1)] == [second.run.id, run_id]
        call.called.add("iter_archive")

        assert call("feedback", run_id, "up", comment="good").rating == "up"
        entry = call("add_memory", "remember the arithmetic run", tags=["runs"], run_id=run_id)
        assert [hit.entry.id for hit in call("memory", q="arithmetic").results] == [entry.id]

        # While a slow run holds the only slot, a queued spec stays queued.
        slow = call("create_run", provider_name="simulated", model_name="slow",
                    dataset_name="arithmetic", limit=50, concurrency=1, config=SLOW)
        queued = call("enqueue", provider_name="simulated", model_name="q",
                      dataset_name="arithmetic", limit=1, config=FAST)
        assert [entry.queue_id for entry in call("queue").queue] == [queued.queue_id]
        assert call("remove_queued", queued.queue_id) is None
        assert call("queue").queue == []
        assert call("cancel", slow.run.id).run.status == "canceled"
        assert call("retry", slow.run.id).run.status in ("pending", "running")
        assert call("cancel", slow.run.id).run.status == "canceled"

        pack = call("create_pack", "arithmetic", "chat-model", limit=2)
        captures = [Capture(sequence=item.sequence, response_text="Answer: A")
                    for item in pack.items]
        imported = call("import_captures", pack, captures)
        assert call("import_captures", pack, captures).run.id == imported.run.id

    public = {name for name, _ in inspect.getmembers(Harness, inspect.isfunction)
              if not name.startswith("_")} - {"send", "subscribe", "close"}
    assert call.called == public


def test_an_api_error_carries_the_spec_error_and_its_status(server: ServerProcess) -> None:
    with Harness(server.url) as harness:
        with pytest.raises(ApiError) as missing:
            harness.run("no-such-run")
        assert (missing.value.status, missing.value.code) == (404, "not_found")
        assert missing.value.details == {"kind": "run", "id": "no-such-run"}
        with pytest.raises(ApiError) as invalid:
            harness.create_run(provider_name="simulated", model_name="m",
                               dataset_name="no-such-dataset")
        assert (invalid.value.status, invalid.value.code) == (422, "invalid")
        assert invalid.value.details["field"] == "datasetName"
        done = harness.create_run(provider_name="simulated", model_name="m",
                                  dataset_name="arithmetic", limit=1, config=FAST)
        wait_until(lambda: finished(harness, done.run.id))
        with pytest.raises(ApiError) as conflict:
            harness.cancel(done.run.id)
        assert conflict.value.status == 409


@pytest.mark.anyio
async def test_the_async_client_speaks_the_same_api(server: ServerProcess) -> None:
    async with AsyncHarness(server.url) as harness:
        data = await harness.data()
        assert data.totals.runs == len([s async for s in harness.iter_archive(limit=1)])
        with pytest.raises(ApiError) as missing:
            await harness.items("no-such-run")
        assert missing.value.status == 404
        with anyio.fail_after(10):
            async with harness.subscribe(after=FROM_START) as subscription:
                async for message in subscription:
                    # An ended run's items and progress come first, its status last.
                    assert isinstance(message, RunStatusMessage | RunProgressMessage
                                      | RunItemMessage)
                    break
