"""``/ws/runs``: every log record as it lands (SPEC §6).

Each message is ``{"position": <cursor after the record>, "record": <the line>}``; the
record is the line's own bytes, never re-encoded. With ``?after=<cursor>`` the records
after that cursor are first read back from the log, up to the position the read
models had when this client subscribed; everything later comes from the bus, so there
is neither a gap nor a duplicate between the two.
"""

from __future__ import annotations

from collections.abc import Iterable

import anyio
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from events.bus import Subscription
from events.decoding import Record, decode_lines
from events.log import EventLog
from events.position import Position
from harness.live import LiveLog, LogBatch, LogReset
from web.streams import StreamCounts

CLOSE_TOO_SLOW = 1013  # "try again later": reconnect with ?after= the last position seen
CLOSE_WAIT_S = 5.0     # bound on handing the close frame over (without web.connections'
                       # protocol, uvicorn holds it until the client reads)


def record_frames(records: Iterable[Record], generation: str) -> str:
    """One JSON text message per record, newline-free, joined for ``send`` one by one."""
    return "\n".join(
        f'{{"position":"{generation}:{r.end}","record":{r.raw.decode()}}}'
        for r in records
    )


def batch_messages(batch: LogBatch) -> list[str]:
    cached = batch.cache.get("ws")
    if not isinstance(cached, str):
        cached = batch.cache["ws"] = record_frames(batch.records, batch.position.generation)
    return cached.split("\n") if cached else []


def reset_message(position: Position) -> str:
    return f'{{"type":"reset","position":"{position}"}}'


def read_back(log: EventLog, start: int, end: int, generation: str) -> list[str]:
    """The records between offsets ``start`` and ``end`` of the log, as messages."""
    data = log.read_range(start, end)
    records = [r for r in decode_lines(data, start) if isinstance(r, Record)]
    frames = record_frames(records, generation)
    return frames.split("\n") if frames else []


async def ws_runs(websocket: WebSocket) -> None:
    live: LiveLog = websocket.app.state.live
    counts: StreamCounts = websocket.app.state.streams
    # Subscribed before the handshake completes: a record appended as soon as the
    # client sees the connection open is then already on its way to it.
    subscription = live.bus.subscribe()
    now = live.position
    counts.websocket += 1
    try:
        with subscription:
            await websocket.accept()
            backlog = await _backlog(live, websocket.query_params.get("after"), now)
            timeout_s = websocket.app.state.settings.send_timeout_s
            too_slow = False
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_until_disconnect, websocket, tasks.cancel_scope)
                tasks.start_soon(_until_cut_off, subscription, tasks.cancel_scope)
                try:
                    for message in backlog:
                        await _send(websocket, message, timeout_s)
                    async for batch in subscription:
                        if isinstance(batch, LogReset):
                            await _send(websocket, reset_message(batch.position), timeout_s)
                            continue
                        for message in batch_messages(batch):
                            await _send(websocket, message, timeout_s)
                except TimeoutError:
                    too_slow = True
                tasks.cancel_scope.cancel()
            if too_slow or subscription.dropped:
                # Queued at once, even behind unread data (web.connections); a client
                # that never reads it is aborted after the close and drain timeouts.
                with anyio.move_on_after(CLOSE_WAIT_S):
                    await websocket.close(CLOSE_TOO_SLOW, "fell behind; resume with ?after=")
    except WebSocketDisconnect:
        pass
    finally:
        counts.websocket -= 1


async def _backlog(live: LiveLog, after: str | None, now: Position) -> list[str]:
    """What a client asking for the records after ``after`` is sent before going live."""
    if after is None:
        return []
    cursor = Position.parse(after)
    if cursor is None or not now.admits(cursor):
        return [reset_message(now)]
    start = cursor.offset if cursor.generation == now.generation else 0
    return await anyio.to_thread.run_sync(read_back, live.log, start, now.offset,
                                          now.generation)


async def _send(websocket: WebSocket, message: str, timeout_s: float) -> None:
    """Send ``message``, or raise ``TimeoutError`` if the client has not made room for it
    within ``timeout_s`` (it stopped reading)."""
    with anyio.fail_after(timeout_s):
        await websocket.send_text(message)


async def _until_cut_off(subscription: Subscription[LogBatch | LogReset],
                         scope: anyio.CancelScope) -> None:
    """Stop sending as soon as the bus drops this client, rather than after it has
    read its way through what was queued for it."""
    await subscription.cut_off.wait()
    scope.cancel()


async def _until_disconnect(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        scope.cancel()


routes = [WebSocketRoute("/ws/runs", ws_runs)]
