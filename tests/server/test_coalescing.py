"""A running item's updates reach live clients a few times a second, not once per batch;
its final state comes at once, and a client resuming from a cursor it was given while an
update was held still gets that update (SPEC §5: no gap)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import anyio
import httpx
import pytest

from events import schema as ev
from harness.settings import Settings
from tests.support.events import TS, append
from tests.support.servers import RunningServer
from tests.support.sse import ClientBoard, SSEStream, fold_until, sse_stream

pytestmark = pytest.mark.anyio

WINDOW_S = 1.0  # long enough that an update sent within it is held on a busy machine
DELTAS = 200


@pytest.fixture
def server(server_factory: Callable[..., RunningServer], settings: Settings) -> RunningServer:
    return server_factory(replace(settings, sse_item_window_s=WINDOW_S))


def opening(run_id: str) -> list[ev.Event]:
    return [ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="m",
                          dataset_name="arithmetic", total=1, ts=TS),
            ev.RunStarted(run_id=run_id, ts=TS),
            ev.ItemStarted(run_id=run_id, sequence=1, prompt_text="Q?", ts=TS)]


def delta(run_id: str, number: int) -> ev.ItemDelta:
    return ev.ItemDelta(run_id=run_id, sequence=1, text=f"t{number} ", ts=TS)


async def position_after(client: httpx.AsyncClient, server: RunningServer, offset: int) -> str:
    with anyio.fail_after(10):
        while True:
            position = (await client.get(f"{server.url}/api/data")).headers["x-harness-position"]
            if int(position.split(":")[1]) >= offset:
                return position
            await anyio.sleep(0.01)


async def fold_until_chunks(stream: SSEStream, board: ClientBoard, run_id: str,
                            chunks: int) -> int:
    """Fold until the client's item 1 shows ``chunks`` chunks; how many ``run_item``
    messages that took."""
    items = 0
    with anyio.fail_after(10 + 2 * WINDOW_S):
        while True:
            item = board.runs.get(run_id, {}).get("items", {}).get(1)
            if item and (item.get("activity") or {}).get("chunks") == chunks:
                return items
            message = await stream.next()
            items += message.event == "run_item"
            board.apply(message)


async def test_a_streaming_item_is_sent_a_few_times_a_second_and_its_end_at_once(
        server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = await position_after(client, server, 0)
        async with sse_stream(server.url, after=start) as stream:
            board = ClientBoard()
            append(server.log_path, *opening("a"))
            for number in range(DELTAS):  # each its own append, read in a few batches
                append(server.log_path, delta("a", number))
            # The last state arrives although nothing follows it, in far fewer messages.
            assert await fold_until_chunks(stream, board, "a", DELTAS) < DELTAS // 4
            answered = append(server.log_path, ev.ItemAnswered(
                run_id="a", sequence=1, response_text="A", answer="A", ts=TS))
            # Leaving "running" is sent in the group of the batch that did it.
            await fold_until(stream, board, await position_after(client, server, answered))
            assert board.runs["a"]["items"][1]["state"] == "awaiting"


async def test_a_resume_from_a_cursor_given_while_an_update_was_held_brings_it(
        server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = await position_after(client, server, 0)
        async with sse_stream(server.url, after=start) as observer:
            watched = ClientBoard()
            async with sse_stream(server.url, after=start) as leaving:
                board = ClientBoard()
                first = append(server.log_path, *opening("b"), delta("b", 0))
                await fold_until(leaving, board, await position_after(client, server, first))
                assert board.runs["b"]["items"][1]["activity"]["chunks"] == 1
                held = append(server.log_path, delta("b", 1))  # within the window: held
                cursor = await position_after(client, server, held)
                await fold_until(leaving, board, cursor)  # the cursor, without the item
            # The held state goes out while that client is away.
            await fold_until_chunks(observer, watched, "b", 2)
        async with sse_stream(server.url, last_event_id=cursor) as resumed:
            again = ClientBoard()
            await fold_until_chunks(resumed, again, "b", 2)
            assert again.runs["b"]["items"][1]["state"] == "running"


async def test_a_run_that_ends_with_an_item_still_running_sends_its_held_update_first(
        server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = await position_after(client, server, 0)
        async with sse_stream(server.url, after=start) as stream:
            board = ClientBoard()
            first = append(server.log_path, *opening("c"), delta("c", 0))
            await fold_until(stream, board, await position_after(client, server, first))
            # The second delta is held; the failed run settles nothing.
            append(server.log_path, delta("c", 1),
                   ev.RunFinished(run_id="c", status="failed", error="boom", ts=TS))
            with anyio.fail_after(10):
                while board.runs["c"]["run"]["status"] != "failed":
                    board.apply(await stream.next())
            # A client that stops at the final status already has the item's last state.
            assert board.runs["c"]["items"][1]["activity"]["chunks"] == 2
