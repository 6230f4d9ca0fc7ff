"""The fan-out writes a batch straight to an idle client's socket (``web.fanout``,
``web.connections.write_body_now``) and through ASGI otherwise: over loopback, every
client gets every message, in order, in well-formed chunks, whichever way each was
written, and a server without our HTTP protocol still serves the stream through ASGI.
"""

from __future__ import annotations

from dataclasses import replace

import anyio
import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette

from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.ports import free_port
from tests.support.servers import RunningServer, serve_in_thread, stop_in_thread
from tests.support.sse import ClientBoard, RawEventStream, SSEMessage, server_board
from web.app import create_app
from web.fanout import Fanout

pytestmark = pytest.mark.anyio

BIG_PROMPT = "Which of these is right? " + "x" * 32_000 + " {}"  # ~100 KB per run


def fanout_of(server: RunningServer) -> Fanout:
    app = server.server.config.app
    assert isinstance(app, Starlette)
    fanout: Fanout = app.state.fanout
    return fanout


async def settled(client: httpx.AsyncClient, server: RunningServer, offset: int) -> str:
    """The server's position once it has read the log up to ``offset``."""
    with anyio.fail_after(10):
        while True:
            position = (await client.get(f"{server.url}/api/health")).json()["position"]
            if int(position.split(":")[1]) >= offset:
                return position
            await anyio.sleep(0.01)


async def streams_open(client: httpx.AsyncClient, server: RunningServer, count: int) -> None:
    with anyio.fail_after(10):
        while (await client.get(f"{server.url}/api/health")).json()[
                "subscribers"]["sse"] < count:
            await anyio.sleep(0.01)


def offsets(messages: list[SSEMessage]) -> list[int]:
    return [int(message.id.split(":")[1]) for message in messages if message.id]


def board_of(messages: list[SSEMessage]) -> ClientBoard:
    board = ClientBoard()
    for message in messages:
        board.apply(message)
    return board


async def test_every_client_gets_every_batch_in_order_written_straight_to_its_socket(
        server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = (await client.get(f"{server.url}/api/health")).json()["position"]
        readers = [RawEventStream(server.url, after=start) for _ in range(40)]
        try:
            await streams_open(client, server, len(readers))
            for number in range(20):  # each its own batch
                end = append(server.log_path, *run_history(f"r{number}", total=2))
                position = await settled(client, server, end)
            received = [await anyio.to_thread.run_sync(reader.read_until, position)
                        for reader in readers]
            expected, _ = await server_board(client, server.url)
        finally:
            for reader in readers:
                reader.close()
    first = received[0]
    assert all(messages == first for messages in received)
    assert offsets(first) == sorted(set(offsets(first)))  # every batch once, in order
    assert board_of(first).runs == expected
    fanout = fanout_of(server)
    assert fanout.written_at_once >= len(readers) * 20
    assert fanout.left_pending == 0


async def test_a_client_that_reads_slowly_gets_everything_in_order_both_ways(
        server_factory, settings: Settings) -> None:
    # It takes nothing until the server has had to leave batches pending for it (its
    # socket full), then reads behind a writer that goes on appending, so that batches
    # come while its connection sends what was pending, and after it has caught up.
    server = server_factory(replace(settings, stream_buffer=4096, send_timeout_s=60))
    fanout = fanout_of(server)
    async with httpx.AsyncClient() as client:
        start = (await client.get(f"{server.url}/api/health")).json()["position"]
        reader = RawEventStream(server.url, after=start, receive_buffer=4096)
        try:
            await streams_open(client, server, 1)
            number = 0
            while not fanout.left_pending:
                assert number < 400, "the server never had to hold a batch back"
                end = append(server.log_path, *run_history(f"big{number}", total=3,
                                                           prompt=BIG_PROMPT))
                await settled(client, server, end)
                number += 1
            written_at_once = fanout.written_at_once
            positions, written = anyio.create_memory_object_stream[str](100)

            async def write() -> None:
                async with positions:
                    for extra in range(40):
                        prompt = BIG_PROMPT if extra % 4 == 0 else "Q{}?"
                        end = append(server.log_path, *run_history(
                            f"more{extra}", total=2, prompt=prompt))
                        await positions.send(await settled(client, server, end))

            async def read() -> None:
                async with written:
                    async for position in written:
                        await anyio.to_thread.run_sync(reader.read_until, position)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(write)
                tasks.start_soon(read)
            expected, _ = await server_board(client, server.url)
        finally:
            reader.close()
    assert fanout.written_at_once > written_at_once  # straight to the socket again
    assert offsets(reader.messages) == sorted(set(offsets(reader.messages)))
    assert board_of(reader.messages).runs == expected
    assert fanout.dropped == 0


async def test_without_our_http_protocol_every_batch_goes_through_asgi(
        settings: Settings) -> None:
    # A bare ``uvicorn web.main:app`` runs uvicorn's own protocol: no direct writer.
    settings = replace(settings, port=free_port())
    server, thread = serve_in_thread(create_app(settings), port=settings.port,
                                     timeout_graceful_shutdown=5)
    running = RunningServer(settings, server, thread)
    try:
        async with httpx.AsyncClient() as client:
            start = (await client.get(f"{running.url}/api/health")).json()["position"]
            reader = RawEventStream(running.url, after=start)
            try:
                await streams_open(client, running, 1)
                for number in range(5):
                    end = append(running.log_path, *run_history(f"r{number}", total=2))
                    position = await settled(client, running, end)
                messages = await anyio.to_thread.run_sync(reader.read_until, position)
                expected, _ = await server_board(client, running.url)
            finally:
                reader.close()
        assert board_of(messages).runs == expected
        assert fanout_of(running).written_at_once == 0
        assert fanout_of(running).left_pending >= 5
    finally:
        stop_in_thread(server, thread)


async def test_a_stream_written_to_straight_ends_cleanly_when_the_server_stops(
        server: RunningServer) -> None:
    async with httpx.AsyncClient() as client:
        start = (await client.get(f"{server.url}/api/health")).json()["position"]
        reader = RawEventStream(server.url, after=start)
        try:
            await streams_open(client, server, 1)
            end = append(server.log_path, *run_history("a", total=2))
            position = await settled(client, server, end)
            await anyio.to_thread.run_sync(reader.read_until, position)
            assert fanout_of(server).written_at_once >= 1
            await anyio.to_thread.run_sync(server.stop)
            # The last chunk comes after everything written straight to the socket.
            await anyio.to_thread.run_sync(reader.read_to_end)
        finally:
            reader.close()
    assert reader.last_id == position
