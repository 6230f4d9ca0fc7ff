"""``?delta=text`` over a real loopback server: for random streamed histories (restarted
items, runs that fail with items still running, emoji), a subscriber folding text deltas
ends with exactly what ``GET /api/data`` and the items endpoint show, and what a
subscriber of whole messages holds, while it was sent deltas and far fewer bytes."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import anyio
import msgspec
import pytest

from events import schema as ev
from harness.client import FROM_START, AsyncHarness, AsyncSubscription, Backoff, LiveBoard
from harness.settings import Settings
from tests.support.events import TS, append
from tests.support.servers import RunningServer
from tests.support.sse import sse_stream

pytestmark = pytest.mark.anyio

FAST = Backoff(first_s=0.05, max_s=0.5)
WORDS = ("the", "answer", "is", "B", "because", "ü", "🌍", "∑x²", "\n", " ", "…", "\"q\"")


class Folder:
    """A subscription folded into a ``LiveBoard``, its messages counted by kind."""

    def __init__(self, subscription: AsyncSubscription) -> None:
        self.subscription = subscription
        self.board = LiveBoard()
        self.kinds: Counter[str] = Counter()

    async def run(self) -> None:
        async with self.subscription:
            async for message in self.subscription:
                self.kinds[type(message).__name__] += 1
                self.board.apply(message, cursor=self.subscription.cursor)


def random_history(rng: random.Random, run_ids: list[str]) -> list[list[ev.Event]]:
    """Steps of events (each appended at once) in which every run streams its items
    with restarts and ends; some runs fail with items still running."""
    steps: list[list[ev.Event]] = []
    for run_id in run_ids:
        steps.append([ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                                    dataset_name="arithmetic", total=4, ts=TS),
                      ev.RunStarted(run_id=run_id, ts=TS)])
    live = {run_id: list(range(1, 5)) for run_id in run_ids}
    started: set[tuple[str, int]] = set()
    while any(live.values()):
        step: list[ev.Event] = []
        for _ in range(rng.randint(1, 6)):
            if not any(live.values()):
                break
            run_id = rng.choice([r for r in run_ids if live[r]])
            sequence = rng.choice(live[run_id][:2])  # two items of a run stream at once
            key = (run_id, sequence)
            roll = rng.random()
            if key not in started or roll < 0.03:  # a first attempt, or another one
                started.add(key)
                step.append(ev.ItemStarted(run_id=run_id, sequence=sequence,
                                           prompt_text=f"Q{sequence}? " * 20,
                                           choices=("A", "B"), ts=TS))
            elif roll < 0.85:
                text = "".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))
                step.append(ev.ItemDelta(run_id=run_id, sequence=sequence, text=text, ts=TS))
            elif roll < 0.9 and len(live[run_id]) > 1:
                step.append(ev.ItemFaulted(run_id=run_id, sequence=sequence, error="boom",
                                           ts=TS))
                live[run_id].remove(sequence)
            elif roll < 0.97:
                step += [ev.ItemAnswered(run_id=run_id, sequence=sequence, response_text="B",
                                         answer="B", ts=TS),
                         ev.ItemJudged(run_id=run_id, sequence=sequence,
                                       correct=rng.random() < 0.5, expected="B", ts=TS)]
                live[run_id].remove(sequence)
            else:  # the run fails with whatever is still running
                live[run_id] = []
            if not live[run_id]:
                status = "completed" if roll < 0.97 else "failed"
                step.append(ev.RunFinished(run_id=run_id, status=status, ts=TS))
        steps.append(step)
    return steps


def comparable(value: Any) -> Any:
    data = msgspec.to_builtins(value)
    if "totals" in data:
        del data["totals"]["eventsApplied"], data["totals"]["problems"]
    return data


async def eventually(condition: Callable[[], Any], *, timeout_s: float = 30) -> None:
    with anyio.fail_after(timeout_s):
        while not await condition():
            await anyio.sleep(0.02)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_subscriber_folding_text_deltas_ends_where_the_server_and_a_whole_message_subscriber_are(  # noqa: E501
        server_factory: Callable[..., RunningServer], settings: Settings, seed: int) -> None:
    # A short window: most updates of a streaming item go out, so most become deltas.
    server = server_factory(replace(settings, sse_item_window_s=0.01))
    rng = random.Random(seed)
    run_ids = [f"run-{seed}-{n}" for n in range(3)]
    async with AsyncHarness(server.url) as harness:
        deltas = Folder(harness.subscribe(after=FROM_START, backoff=FAST, text_deltas=True))
        whole = Folder(harness.subscribe(after=FROM_START, backoff=FAST))
        one_run = Folder(harness.subscribe(after=FROM_START, backoff=FAST, text_deltas=True,
                                           run_ids=[run_ids[0]]))
        late = Folder(harness.subscribe(after=FROM_START, backoff=FAST, text_deltas=True))
        async with anyio.create_task_group() as tasks:
            for folder in (deltas, whole, one_run):
                tasks.start_soon(folder.run)
            steps = random_history(rng, run_ids)
            for number, step in enumerate(steps):
                if number == len(steps) // 2:  # joins mid-stream: its opening is absolute
                    tasks.start_soon(late.run)
                append(server.log_path, *step)
                position = server.settle()

                async def board_is_the_servers(position: str = position) -> bool:
                    fresh = await harness.data()
                    assert fresh.position == position  # nothing else writes
                    return all(comparable(folder.board.snapshot()) == comparable(fresh)
                               for folder in (deltas, whole, late) if folder.kinds)

                # Held updates follow their group's id: wait for them, not the id only.
                await eventually(board_is_the_servers)
            tasks.cancel_scope.cancel()

        assert deltas.kinds["RunItemDeltaMessage"] > 0
        assert whole.kinds["RunItemDeltaMessage"] == 0
        assert one_run.kinds["RunItemDeltaMessage"] > 0
        for run_id in run_ids:
            items = await harness.items(run_id, limit=1000)
            served = {item.sequence: item for group in items.groups.values() for item in group
                      if item.attempts}
            assert deltas.board.runs[run_id].items == served
            assert late.board.runs[run_id].items == served
            assert whole.board.runs[run_id].items == served
        assert one_run.board.runs[run_ids[0]].items == deltas.board.runs[run_ids[0]].items
        assert set(one_run.board.runs) == {run_ids[0]}


async def test_a_client_that_does_not_ask_for_deltas_never_gets_one_and_a_bad_value_is_422(
        server: RunningServer) -> None:
    """The option and the message are in the OpenAPI document; asking for something
    else is a 422; a client that does not ask is sent whole items only."""
    position = server.settle()
    async with sse_stream(server.url, after=position) as plain:
        append(server.log_path,
               ev.RunCreated(run_id="r", provider_name="simulated", model_name="m",
                             dataset_name="arithmetic", total=1, ts=TS),
               ev.ItemStarted(run_id="r", sequence=1, prompt_text="Q?", ts=TS))
        for number in range(20):
            append(server.log_path, ev.ItemDelta(run_id="r", sequence=1, text=f"{number} ",
                                                 ts=TS))
        end = append(server.log_path, ev.ItemAnswered(run_id="r", sequence=1,
                                                      response_text="A", ts=TS))
        kinds = set()
        while plain.last_id is None or int(plain.last_id.split(":")[1]) < end:
            kinds.add((await plain.next()).event)
        assert "run_item_delta" not in kinds and "run_item" in kinds
    async with AsyncHarness(server.url) as harness:
        response = await harness.http.get(f"{server.url}/api/events",
                                          params={"delta": "everything"})
        assert response.status_code == 422
        assert response.json()["error"]["details"]["field"] == "delta"
        document = (await harness.http.get(f"{server.url}/openapi.json")).json()
        events = document["paths"]["/api/events"]["get"]
        assert "delta" in [parameter["name"] for parameter in events["parameters"]]
        assert "run_item_delta" in events["description"]
        assert "run_item_delta" in document["components"]["schemas"]["RunItemDeltaMessage"][
            "description"]
