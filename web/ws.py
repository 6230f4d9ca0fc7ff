"""``/ws/runs``: every log record as it lands (SPEC §6).

Each message is ``{"position": <cursor after the record>, "record": <the record>}``; the
record is its own bytes, never re-encoded. A record that cannot be sent as text (it is
not an event, or not UTF-8) is skipped and counted, as the read models count it.

With ``?after=<cursor>`` the records after that cursor are first read back from the log
in bounded batches (``BACKLOG_BYTES`` at a time, read and framed in a worker thread, the
next read only once the last batch is sent), so a resume from the log's start costs the
server one batch of memory per connection, however long the log. Only once the reader
has reached the log's end does the client subscribe to the live bus; the reader then
reads on to at least where the read models stood at that moment, and the live records
it already sent are skipped by position: neither a gap nor a duplicate. A client that
falls behind the live bus, or takes no data for ``send_timeout_s``, is closed with 1013
at once and resumes with its last position.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import anyio
import anyio.to_thread
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from events.bus import Subscription
from events.decoding import Record, decode_records
from events.log import LogReader, RecordBatch, Rotation
from events.position import CursorRefused, Position, judge_cursor
from harness.live import LiveLog, LogBatch, LogReset
from web.streams import StreamCounts

CLOSE_TOO_SLOW = 1013  # "try again later": reconnect with ?after= the last position seen
CLOSE_WAIT_S = 5.0     # bound on handing the close frame over (without web.connections'
                       # protocol, uvicorn holds it until the client reads)
BACKLOG_BYTES = 1 << 20


def record_frame(record: Record, generation: str) -> str:
    # The read models checked that the record is an event in UTF-8: it decodes.
    return f'{{"position":"{generation}:{record.end}","record":{record.raw.decode()}}}'


def record_frames(records: Iterable[Record], generation: str) -> str:
    """One JSON text message per record, newline-free, joined for ``send`` one by one."""
    return "\n".join(record_frame(record, generation) for record in records)


def batch_messages(batch: LogBatch) -> list[str]:
    cached = batch.cache.get("ws")
    if not isinstance(cached, str):
        cached = batch.cache["ws"] = record_frames(batch.records, batch.position.generation)
    return cached.split("\n") if cached else []


def reset_message(position: Position) -> str:
    return f'{{"type":"reset","position":"{position}"}}'


def backlog_frames(batch: RecordBatch, after: int) -> tuple[list[str], int]:
    """The messages for the records of ``batch`` after offset ``after``, and how many
    records could not be sent (not events, or not UTF-8)."""
    frames: list[str] = []
    skipped = 0
    for decoded in decode_records(batch):
        if not isinstance(decoded, Record):
            skipped += 1
        elif decoded.end > after:
            frames.append(record_frame(decoded, batch.generation))
    return frames, skipped


class Feed:
    """One client's feed: the backlog from its cursor, then the live bus."""

    def __init__(self, websocket: WebSocket, live: LiveLog, counts: StreamCounts) -> None:
        self.websocket = websocket
        self.live = live
        self.counts = counts
        self.sent = Position("", 0)  # the position after the last record sent
        self.send_timeout_s: float = websocket.app.state.settings.send_timeout_s

    async def send(self, message: str) -> None:
        """Send ``message``, or raise ``TimeoutError`` if the client has not made room
        for it within ``send_timeout_s`` (it stopped reading)."""
        with anyio.fail_after(self.send_timeout_s):
            await self.websocket.send_text(message)

    async def backlog(self, reader: LogReader) -> bool:
        """Send what ``reader`` has; ``False`` if the log became another history."""
        while True:
            batch = await reader.read(max_bytes=BACKLOG_BYTES)
            if batch is None:
                return True
            if isinstance(batch, Rotation):
                return False
            frames, skipped = await anyio.to_thread.run_sync(backlog_frames, batch,
                                                             self.sent.offset)
            self.counts.websocket_skipped += skipped
            for frame in frames:
                await self.send(frame)
            self.sent = batch.position

    async def follow(self, subscription: Subscription[LogBatch | LogReset]) -> None:
        async for batch in subscription:
            if isinstance(batch, LogReset):
                self.sent = Position("", 0)
                await self.send(reset_message(batch.position))
                continue
            if batch.position.generation != self.sent.generation:
                self.sent = Position(batch.position.generation, 0)
            for record, message in zip(batch.records, batch_messages(batch), strict=True):
                if record.end > self.sent.offset:
                    await self.send(message)
            self.sent = batch.position


async def ws_runs(websocket: WebSocket) -> None:
    live: LiveLog = websocket.app.state.live
    counts: StreamCounts = websocket.app.state.streams
    feed = Feed(websocket, live, counts)
    after = websocket.query_params.get("after")
    # Without a cursor, subscribed before the handshake completes: a record appended as
    # soon as the client sees the connection open is then already on its way to it.
    subscription = live.bus.subscribe() if after is None else None
    counts.websocket += 1
    try:
        await websocket.accept()
        too_slow = False
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_until_disconnect, websocket, tasks.cancel_scope)
            try:
                if subscription is None:
                    subscription = await _catch_up(feed, after or "")
                tasks.start_soon(_until_cut_off, subscription, tasks.cancel_scope)
                with subscription:
                    await feed.follow(subscription)
            except TimeoutError:
                too_slow = True
            tasks.cancel_scope.cancel()
        if too_slow or (subscription is not None and subscription.dropped):
            # Queued at once, even behind unread data (web.connections); a client that
            # never reads it is aborted after the close and drain timeouts.
            with anyio.move_on_after(CLOSE_WAIT_S):
                await websocket.close(CLOSE_TOO_SLOW, "fell behind; resume with ?after=")
    except WebSocketDisconnect:
        pass
    finally:
        if subscription is not None:
            subscription.close()
        counts.websocket -= 1


async def _catch_up(feed: Feed, after: str) -> Subscription[LogBatch | LogReset]:
    """Send the backlog after cursor ``after`` and return the live subscription that
    takes over where it ends (or a ``reset`` if the cursor names no point of the log)."""
    live = feed.live
    now = live.position
    try:
        cursor = judge_cursor(after, now)
    except CursorRefused:
        subscription = live.bus.subscribe()
        with _closed_on_error(subscription):
            await feed.send(reset_message(now))
        return subscription
    feed.sent = cursor
    reader = live.log.reader(after=cursor if cursor.offset else None)
    try:
        if await feed.backlog(reader):
            subscription = live.bus.subscribe()
            with _closed_on_error(subscription):
                # The read models may have read on since the reader's last look: read to
                # where they were when subscribing, at least; the bus brings the rest.
                caught_up = await feed.backlog(reader)
            if caught_up and reader.position.generation == live.position.generation:
                return subscription
            subscription.close()
        subscription = live.bus.subscribe()
        with _closed_on_error(subscription):
            await feed.send(reset_message(live.position))
        feed.sent = Position("", 0)
        return subscription
    finally:
        await reader.aclose()


@contextmanager
def _closed_on_error(subscription: Subscription[LogBatch | LogReset]) -> Iterator[None]:
    """Close ``subscription`` if the block fails (a client gone mid-backlog)."""
    try:
        yield
    except BaseException:
        subscription.close()
        raise


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
