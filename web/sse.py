"""``GET /api/events``: the read models' changes as Server-Sent Events (SPEC §5).

A client that connects with a cursor — the ``Last-Event-ID`` header, or ``?after=``
since a page's own ``EventSource`` cannot set headers — is first sent everything that
changed after it, then the live stream. Subscribing to the bus and taking that
snapshot happen in one synchronous step (no ``await`` between them), so no batch can
fall between the two: the client ends in the same state as one that never left.
A cursor the log cannot honour is answered with ``reset``.

Frames are encoded once per batch and shared by every unfiltered client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import anyio
import msgspec
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from events.bus import Subscription
from events.position import CursorRefused, Position, judge_cursor
from harness.live import LiveLog, LogBatch, LogReset
from projections.messages import (
    QueueMessage,
    RunItemMessage,
    RunProgressMessage,
    RunStatusMessage,
    StreamMessage,
    messages_since,
)
from web.api import endpoint
from web.streams import StreamCounts

SEND_TIMEOUT_S = 30


class ResetMessage(msgspec.Struct):
    position: str


STREAM_PAYLOADS = (RunStatusMessage, RunProgressMessage, RunItemMessage, QueueMessage,
                   ResetMessage)


class EventsQuery(msgspec.Struct, rename="camel"):
    after: str | None = None
    run_id: list[str] = []


def encode_frames(messages: Iterable[StreamMessage], last_id: str) -> bytes:
    """SSE frames for ``messages``, the last one carrying ``id: last_id``."""
    frames = [b"event: %s\ndata: %s\n\n" % (m.event.encode(), m.data) for m in messages]
    if frames:
        frames[-1] = frames[-1][:-1] + b"id: %s\n\n" % last_id.encode()
    return b"".join(frames)


def reset_frame(position: Position) -> bytes:
    data = msgspec.json.encode(ResetMessage(str(position)))
    return b"event: reset\ndata: %s\nid: %s\n\n" % (data, str(position).encode())


def batch_frames(batch: LogBatch, run_ids: frozenset[str]) -> bytes:
    if run_ids:
        chosen = [m for m in batch.messages if m.run_id in run_ids]
        return encode_frames(chosen, str(batch.position))
    frames = batch.cache.get("sse")
    if not isinstance(frames, bytes):
        frames = batch.cache["sse"] = encode_frames(batch.messages, str(batch.position))
    return frames


def opening_frames(live: LiveLog, cursor_text: str | None, run_ids: frozenset[str]) -> bytes:
    """What a client connecting at ``cursor_text`` missed, or ``reset`` if that is unknowable."""
    if not cursor_text:
        return b""
    now = live.position
    try:
        cursor = judge_cursor(cursor_text, now)
    except CursorRefused:
        return reset_frame(now)
    return encode_frames(messages_since(live.models, cursor.offset, run_ids), str(now))


async def _stream(subscription: Subscription[LogBatch | LogReset], opening: bytes,
                  run_ids: frozenset[str], counts: StreamCounts) -> AsyncIterator[bytes]:
    counts.sse += 1
    try:
        with subscription:
            if opening:
                yield opening
            async for message in subscription:
                if isinstance(message, LogReset):
                    yield reset_frame(message.position)
                    continue
                frames = batch_frames(message, run_ids)
                if frames:
                    yield frames
    finally:
        counts.sse -= 1


class LiveStreamResponse(EventSourceResponse):
    """An SSE response that hangs up as soon as its subscriber is cut off.

    A client that stopped reading leaves the response blocked in ``send`` on a full
    socket; waiting for ``send_timeout`` would keep its connection for no purpose.
    """

    def __init__(self, content: AsyncIterator[bytes], *,
                 subscription: Subscription[LogBatch | LogReset], **options: object) -> None:
        super().__init__(content, **options)  # type: ignore[arg-type]
        self.subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._hang_up_when_cut_off, tasks.cancel_scope)
                await super().__call__(scope, receive, send)
                tasks.cancel_scope.cancel()
        finally:
            # The stream closes it too, but a HEAD request never starts the stream.
            self.subscription.close()

    async def _hang_up_when_cut_off(self, scope: anyio.CancelScope) -> None:
        await self.subscription.cut_off.wait()
        scope.cancel()


def _ping() -> ServerSentEvent:
    # A comment for proxies, and a named event a page can run a watchdog on.
    return ServerSentEvent(comment="ping", event="ping", data="")


@endpoint(summary="The live stream of run changes (Server-Sent Events)", tag="streams",
          query=EventsQuery, media_type="text/event-stream", response=STREAM_PAYLOADS,
          description=(
              "Events run_status, run_progress, run_item, queue and reset, each carrying "
              "absolute state; resume with Last-Event-ID or ?after=<cursor>."))
async def events(request: Request, query: EventsQuery) -> LiveStreamResponse:
    live: LiveLog = request.app.state.live
    run_ids = frozenset(query.run_id)
    subscription = live.bus.subscribe()
    opening = opening_frames(live, request.headers.get("last-event-id") or query.after, run_ids)
    return LiveStreamResponse(
        _stream(subscription, opening, run_ids, request.app.state.streams),
        subscription=subscription,
        ping=request.app.state.settings.sse_ping_s,
        ping_message_factory=_ping,
        send_timeout=SEND_TIMEOUT_S,
        headers={"X-Harness-Position": str(live.position)},
    )


routes = [Route("/api/events", events, methods=["GET"])]
