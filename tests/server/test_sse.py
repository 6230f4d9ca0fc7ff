"""SSE over loopback: live messages, gapless resume, filters, resets, slow clients."""

from __future__ import annotations

import os
from dataclasses import replace

import anyio
import httpx
import pytest

from events import schema as ev
from tests.support.events import TS, append, run_history
from tests.support.servers import RunningServer
from tests.support.sse import ClientBoard, fold_until, server_board, sse_stream

pytestmark = pytest.mark.anyio


async def position_of(client: httpx.AsyncClient, server: RunningServer) -> str:
    return (await client.get(f"{server.url}/api/data")).headers["x-harness-position"]


async def wait_for_position(client: httpx.AsyncClient, server: RunningServer, offset: int) -> str:
    with anyio.fail_after(10):
        while True:
            position = await position_of(client, server)
            if int(position.split(":")[1]) >= offset:
                return position
            await anyio.sleep(0.01)


async def test_an_appended_run_arrives_as_status_progress_and_items(server: RunningServer) -> None:
    async with httpx.AsyncClient() as client, sse_stream(
            server.url, after=await position_of(client, server)) as stream:
        end = append(server.log_path, *run_history("a", total=1, answers=(True,)))
        board = ClientBoard()
        await fold_until(stream, board, await wait_for_position(client, server, end))
        run = board.runs["a"]
        assert run["run"]["status"] == "completed"
        assert run["progress"]["correct"] == 1
        assert run["items"][1]["state"] == "correct"
        assert run["items"][1]["activity"]["chunks"] == 1


async def test_a_client_that_drops_and_resumes_ends_in_the_same_state(
        server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = await position_of(client, server)
        steady = ClientBoard()
        async with sse_stream(server.url, after=start) as always_on:
            dropper = ClientBoard()
            async with sse_stream(server.url, after=start) as first_half:
                end = append(server.log_path, *run_history("a", total=3, finish=None))
                await fold_until(first_half, dropper,
                                 await wait_for_position(client, server, end))
                last_seen = first_half.last_id
            # while it is away: more items, a new run, a finish
            append(server.log_path, ev.RunLog(run_id="a", level="info", message="x", ts=TS))
            append(server.log_path, *run_history("b", total=2, answers=(False, True)))
            end = append(server.log_path, ev.RunFinished(run_id="a", status="failed", ts=TS))
            final = await wait_for_position(client, server, end)
            async with sse_stream(server.url, last_event_id=last_seen) as resumed:
                await fold_until(resumed, dropper, final)
            await fold_until(always_on, steady, final)
        assert dropper.runs == steady.runs
        rest, position = await server_board(client, server.url)
        assert position == final
        assert dropper.runs == rest


async def test_resume_works_with_the_after_query_from_a_rest_snapshot(
        server: RunningServer) -> None:
    append(server.log_path, *run_history("a", total=2, finish=None))
    async with httpx.AsyncClient() as client:
        snapshot = await client.get(f"{server.url}/api/runs/active")
        position = snapshot.headers["x-harness-position"]
        end = append(server.log_path, ev.RunFinished(run_id="a", status="completed", ts=TS))
        final = await wait_for_position(client, server, end)
        async with sse_stream(server.url, after=position) as stream:
            board = ClientBoard()
            message = await stream.next()
            while message.event != "run_status":  # an ended run's status comes last
                board.apply(message)
                message = await stream.next()
            assert message.data["run"]["status"] == "completed"
            board.apply(message)
            await fold_until(stream, board, final)


async def test_the_run_id_filter_sends_only_that_run(server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = await position_of(client, server)
        async with sse_stream(server.url, after=start, params={"runId": "b"}) as stream:
            append(server.log_path, *run_history("a"))
            end = append(server.log_path, *run_history("b"))
            board = ClientBoard()
            await fold_until(stream, board, await wait_for_position(client, server, end))
        assert set(board.runs) == {"b"}


async def test_the_board_view_has_every_card_and_no_item_messages(server: RunningServer
                                                                  ) -> None:
    async with httpx.AsyncClient() as client:
        start = await position_of(client, server)
        full, cards = ClientBoard(), ClientBoard()
        async with sse_stream(server.url, after=start) as everything, \
                sse_stream(server.url, after=start, params={"view": "board"}) as board:
            append(server.log_path, *run_history("a", total=3, finish=None))
            end = append(server.log_path, *run_history("b", total=2))
            final = await wait_for_position(client, server, end)
            await fold_until(everything, full, final)
            events = []
            with anyio.fail_after(10):
                while board.last_id != final:
                    message = await board.next()
                    events.append(message.event)
                    cards.apply(message)
        assert "run_item" not in events
        for run_id in ("a", "b"):
            assert cards.runs[run_id]["run"] == full.runs[run_id]["run"]
            assert cards.runs[run_id]["progress"] == full.runs[run_id]["progress"]
        # Resuming in the board view: the cards it missed, still no items.
        resumed_cards, resumed_events = ClientBoard(), []
        async with sse_stream(server.url, last_event_id=start,
                              params={"view": "board"}) as resumed:
            with anyio.fail_after(10):
                while resumed.last_id != final:
                    message = await resumed.next()
                    resumed_events.append(message.event)
                    resumed_cards.apply(message)
        assert "run_item" not in resumed_events
        assert resumed_cards.runs == cards.runs


async def test_a_foreign_or_malformed_cursor_gets_reset(server: RunningServer) -> None:
    append(server.log_path, *run_history("a"))
    for cursor in ("nonsense", "abcdef:99999999", "123456789abc:5"):
        async with sse_stream(server.url, after=cursor) as stream:
            message = await stream.next()
            assert message.event == "reset"
            assert message.data["position"] == message.id


@pytest.mark.parametrize("how", ["truncate", "replace"])
async def test_a_truncated_or_replaced_log_resets_subscribers_and_rebuilds(
        server: RunningServer, how: str) -> None:
    append(server.log_path, *run_history("old"))
    async with httpx.AsyncClient() as client:
        start = await wait_for_position(client, server, server.log_path.stat().st_size)
        async with sse_stream(server.url, after=start) as stream:
            fresh = server.log_path.with_name("fresh.jsonl")
            append(fresh, *run_history("new", total=1, answers=(True,)))
            if how == "replace":
                os.replace(fresh, server.log_path)
            else:
                server.log_path.write_bytes(fresh.read_bytes())
            message = await stream.next()
            assert message.event == "reset"
        runs = (await client.get(f"{server.url}/api/runs")).json()["runs"]
        assert [summary["run"]["id"] for summary in runs] == ["new"]
        health = (await client.get(f"{server.url}/api/health")).json()
        assert health["resets"] == 1


async def test_a_stalled_client_is_cut_off_without_slowing_others(
        server_factory, settings) -> None:
    server = server_factory(replace(settings, stream_buffer=8))
    big_prompt = "Which of these is right? " + "x" * 32_000 + " {}"
    async with httpx.AsyncClient() as client:
        start = await position_of(client, server)
        async with sse_stream(server.url, after=start) as healthy, \
                sse_stream(server.url, after=start):  # the second connects and never reads
            board = ClientBoard()
            for number in range(120):  # ~400 KB of messages per append
                end = append(server.log_path,
                             *run_history(f"r{number}", total=3, prompt=big_prompt))
                await fold_until(healthy, board, await wait_for_position(client, server, end))
            assert len(board.runs) == 120
            health = (await client.get(f"{server.url}/api/health")).json()
            assert health["subscribers"]["dropped"] == 1
            assert health["subscribers"]["sse"] == 1


async def test_a_resume_whose_opening_outlasts_the_buffer_still_reaches_the_live_end(
        server_factory, settings) -> None:
    # Resuming from the log's start, the client reads nothing at first: its opening
    # (~15 MB) fills the socket while more batches arrive than it may lag. Before, it was
    # cut off, and, holding no id yet, could only start over from the start, forever.
    server = server_factory(replace(settings, stream_buffer=4))
    big_prompt = "Which of these is right? " + "x" * 32_000 + " {}"
    async with httpx.AsyncClient() as client:
        generation = (await position_of(client, server)).split(":")[0]
        for number in range(150):
            end = append(server.log_path, *run_history(f"old{number}", total=3,
                                                       prompt=big_prompt))
        await wait_for_position(client, server, end)
        async with sse_stream(server.url, after=f"{generation}:0") as stream:
            for number in range(12):  # each its own batch
                end = append(server.log_path, *run_history(f"new{number}", total=1,
                                                           answers=(True,)))
                position = await wait_for_position(client, server, end)
            board = ClientBoard()
            await fold_until(stream, board, position, timeout_s=30)
            expected, _ = await server_board(client, server.url)
        assert len(board.runs) == 162
        assert {run_id: board.runs[run_id] for run_id in expected} == expected
        health = (await client.get(f"{server.url}/api/health")).json()
        assert health["subscribers"]["dropped"] == 0


async def test_head_requests_leave_no_subscription_behind(server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(5):
            assert (await client.head(f"{server.url}/api/events")).status_code == 200
        with anyio.fail_after(10):
            while (await client.get(f"{server.url}/api/health")).json()[
                    "subscribers"]["bus"] != 0:
                await anyio.sleep(0.01)


async def test_an_idle_stream_pings_with_a_comment_and_an_event(server_factory, settings
                                                                ) -> None:
    server = server_factory(replace(settings, sse_ping_s=0.2))
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
            client.stream("GET", f"{server.url}/api/events") as response:
        lines: list[str] = []
        with anyio.fail_after(5):
            async for line in response.aiter_lines():
                lines.append(line)
                if line == "event: ping":
                    break
    assert ": ping" in lines  # a comment, for proxies
    assert "event: ping" in lines  # and an event a page's watchdog can see
