"""A client's frames reach its socket in publish order, whether the fan-out writes them
straight to the socket or leaves them for the client's connection to send through ASGI.

The socket and the ASGI server are faked (``Wire``): the moments where the two ways
could overtake each other — a batch left pending while the connection has not run yet,
a send waiting for a paused socket that has just resumed — are set up exactly, which
a real socket cannot do on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from starlette.types import Message, Scope

from events.bus import Broadcast
from events.filelog import FileLog
from events.position import Position
from harness.live import LiveLog, LogBatch, LogReset
from projections.messages import StreamMessage
from web.connections import BODY_WRITER_EXTENSION
from web.fanout import Fanout, StreamClient
from web.sse import LiveStream, opening_frames
from web.streams import StreamCounts

pytestmark = pytest.mark.anyio


class Wire:
    """One client's socket as both the direct writer and uvicorn's ``send`` reach it:
    while ``paused`` (flow control), the writer refuses and a send waits."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.paused = False
        self.send_waiting = False
        self._resumed = anyio.Event()

    def write_now(self, body: bytes) -> bool:
        if self.paused:
            return False
        self.chunks.append(body)
        return True

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body":
            if self.paused:
                self.send_waiting = True
                await self._resumed.wait()
                self.send_waiting = False
            if message.get("body"):
                self.chunks.append(message["body"])

    def resume(self) -> None:
        """What uvicorn's ``resume_writing`` does: the writer may write at once; the
        waiting send goes on only when its task next runs."""
        self.paused = False
        self._resumed.set()
        self._resumed = anyio.Event()


def batch(number: int) -> LogBatch:
    message = StreamMessage("run_status", "r", b"{}")
    return LogBatch(Position("g", number), [], [message])


async def until(condition: Any) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.lowlevel.checkpoint()


async def test_frames_reach_the_socket_in_order_across_both_ways_of_writing(
        tmp_path: Path) -> None:
    bus: Broadcast[LogBatch | LogReset] = Broadcast()
    fanout = Fanout(bus, encode=lambda _messages, cursor: f"{cursor};".encode(),
                    reset=lambda _reset: b"reset;")
    client = StreamClient(run_ids=frozenset(), board_only=False)
    fanout.attach(client)
    live = LiveLog(FileLog(tmp_path / "runs.jsonl"))
    no_opening = opening_frames(live, None, frozenset())  # a client without a cursor
    stream = LiveStream(live, fanout, client, no_opening, position="g:0",
                        counts=StreamCounts())
    wire = Wire()
    disconnected = anyio.Event()

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    scope: Scope = {"type": "http", "method": "GET", "extensions": {BODY_WRITER_EXTENSION:
                                                             wire.write_now}}
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(stream, scope, receive, wire.send)
        await until(lambda: client.write_now is not None)  # in its live loop
        bus.publish(batch(1))  # written at once
        wire.paused = True
        bus.publish(batch(2))  # left pending; the connection is woken but has not run
        wire.paused = False
        bus.publish(batch(3))  # the socket takes more, but 2 is still pending
        await until(lambda: not client.pending and client.sending_since is None)
        wire.paused = True
        bus.publish(batch(4))
        await until(lambda: wire.send_waiting)  # its connection took 4 and waits to send it
        wire.resume()
        bus.publish(batch(5))  # nothing is pending and the socket is writable, but the
        # send of 4 has not run yet
        await until(lambda: not client.pending and client.sending_since is None)
        bus.publish(batch(6))  # written at once again
        disconnected.set()
    assert b"".join(wire.chunks) == b"g:1;g:2;g:3;g:4;g:5;g:6;"
    assert fanout.written_at_once == 2
    assert fanout.left_pending == 4
