"""``GET /api/events``: the read models' changes as Server-Sent Events (SPEC §5).

A client that connects with a cursor — the ``Last-Event-ID`` header, or ``?after=``
since a page's own ``EventSource`` cannot set headers — is first sent everything that
changed after it, then the live stream. Attaching to the fan-out and taking that
snapshot happen in one synchronous step (no ``await`` between them), so no batch can
fall between the two: the client ends in the same state as one that never left.
A cursor the log cannot honour is answered with ``reset``.

Frames are encoded once per batch and kind of client and handed to every client by
the fan-out (``web.fanout``); ``?view=board`` leaves out ``run_item`` messages, and
``?delta=text`` opts in to ``run_item_delta`` (``projections.text_deltas``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Literal

import anyio
import anyio.lowlevel
import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from events.position import CursorRefused, Position, judge_cursor
from harness.errors import LogUnavailable
from harness.live import LiveLog
from projections.messages import (
    QueueMessage,
    ResetMessage,
    RunItemMessage,
    RunProgressMessage,
    RunStatusMessage,
    StreamMessage,
    resume_slices,
)
from projections.text_deltas import RunItemDeltaMessage
from web.api import endpoint
from web.connections import BODY_WRITER_EXTENSION, SHUTDOWN_EXTENSION
from web.fanout import Fanout, StreamClient
from web.streams import StreamCounts

logger = logging.getLogger("harness.sse")

STREAM_PAYLOADS = (RunStatusMessage, RunProgressMessage, RunItemMessage, RunItemDeltaMessage,
                   QueueMessage, ResetMessage)


class EventsQuery(msgspec.Struct, rename="camel"):
    after: str | None = None
    run_id: list[str] = []
    # "board": run_status, run_progress, queue and reset only — what a board of cards
    # needs, without the run_item message of every item change.
    view: Literal["all", "board"] = "all"
    # "text": a running item's update may come as run_item_delta, the text it appended
    # (projections.text_deltas); without it, a client never sees a kind it does not know.
    delta: Literal["text"] | None = None


def encode_frames(messages: Iterable[StreamMessage], last_id: str | None) -> bytes:
    """SSE frames for ``messages``, the last one carrying ``id: last_id`` if given."""
    frames = [b"event: %s\ndata: %s\n\n" % (m.event.encode(), m.data) for m in messages]
    if frames and last_id is not None:
        frames[-1] = frames[-1][:-1] + b"id: %s\n\n" % last_id.encode()
    return b"".join(frames)


def reset_frame(position: Position) -> bytes:
    """The ``reset`` event: drop your state and refetch from ``position``."""
    data = msgspec.json.encode(ResetMessage(str(position)))
    return b"event: reset\ndata: %s\nid: %s\n\n" % (data, str(position).encode())


def opening_frames(live: LiveLog, cursor_text: str | None, run_ids: frozenset[str], *,
                   items: bool = True) -> AsyncIterator[bytes]:
    """What a client connecting at ``cursor_text`` missed, or ``reset`` if that is
    unknowable, as bounded chunks built one by one as the client takes them (a resume
    from the start of a long log is many of them; a finished run's items are read back
    from the log). Only the last carries the id: a client that leaves halfway resumes
    from where it came. ``items=False`` leaves out ``run_item`` messages. What changed
    is decided now, when this is called."""
    if not cursor_text:
        return _frames(())
    now = live.position
    try:
        cursor = judge_cursor(cursor_text, now)
    except CursorRefused:
        return _frames((reset_frame(now),))
    details = functools.partial(live.details.of, generation=now.generation)
    return _with_last_id(resume_slices(live.models, cursor.offset, run_ids, items=items,
                                       details=details), str(now))


async def _frames(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _with_last_id(slices: AsyncIterator[list[StreamMessage]], last_id: str
                        ) -> AsyncIterator[bytes]:
    previous: list[StreamMessage] | None = None
    async for part in slices:
        if previous is not None:
            yield encode_frames(previous, None)
        previous = part
    if previous is not None:
        yield encode_frames(previous, last_id)


class LiveStream(Response):
    """The ``text/event-stream`` response of one client: what it missed, then whatever
    the fan-out hands it, each piece in one write — written by the fan-out itself while
    this response waits in its live loop and the server offers ``BODY_WRITER_EXTENSION``
    (``web.connections``), else sent here through ASGI.

    Its only other task waits for the client to go away. Its server's graceful shutdown
    ends it after what is pending (``SHUTDOWN_EXTENSION``; under a bare uvicorn, the
    fan-out's ``close``). A client cut off for falling behind is hung up on at once
    (the fan-out cancels ``client.cancel``), even in the middle of a send to a socket
    that no longer drains.
    """

    def __init__(self, live: LiveLog, fanout: Fanout, client: StreamClient,
                 opening: AsyncIterator[bytes], *, position: str, counts: StreamCounts
                 ) -> None:
        super().__init__()  # its headers are its own (no Content-Length: it never ends)
        self.live = live
        self.fanout = fanout
        self.client = client
        self.opening = opening
        self.position = position
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self.client
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no"),
                (b"x-harness-position", self.position.encode()),
            ]})
            if scope["method"] == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            self.counts.sse += 1
            extensions = scope.get("extensions", {})
            if on_shutdown := extensions.get(SHUTDOWN_EXTENSION):
                on_shutdown(functools.partial(self.fanout.end, client))
            ended = False
            try:
                async with anyio.create_task_group() as tasks:
                    client.cancel = tasks.cancel_scope
                    tasks.start_soon(_hang_up_on_disconnect, receive, tasks.cancel_scope)
                    await self._pump(send, extensions.get(BODY_WRITER_EXTENSION))
                    ended = True
                    tasks.cancel_scope.cancel()
            finally:
                self.counts.sse -= 1
            if ended:  # the server is stopping: end the response properly
                await send({"type": "http.response.body", "body": b""})
        finally:
            self.fanout.detach(client)

    async def _pump(self, send: Send, write_now: Callable[[bytes], bool] | None) -> None:
        client = self.client
        opening, opening_end = self.opening, self.position
        while True:
            client.in_opening = True
            try:
                async for chunk in opening:
                    await self._send(send, chunk)
                    # A send to a fast socket never suspends: let other requests in between.
                    await anyio.lowlevel.checkpoint()
            except (LogUnavailable, OSError) as error:
                # A finished run could not be read back (its history changed, no file
                # descriptor left…): the stream ends properly at the last id sent, and
                # the client resumes from there, by then from a rebuilt history or with
                # the descriptors back.
                logger.warning("live stream cut short in its opening: %s", error)
                self.counts.sse_cut_short += 1
                return
            client.in_opening = False
            if not client.overran:
                break
            # Live batches came faster than the opening went out, and were dropped: what
            # they changed follows as a resume from the opening's end (absolute state, as
            # every message), begun in this same step so that no batch falls between.
            client.overran = False
            opening = opening_frames(self.live, opening_end, client.run_ids,
                                     items=not client.board_only)
            opening_end = str(self.live.position)
        client.write_now = write_now
        try:
            while True:
                await client.wake.wait()
                if client.cut_off and not client.pending:
                    return
                await self._send(send, client.take())
        finally:
            client.write_now = None

    async def _send(self, send: Send, data: bytes) -> None:
        self.client.sending_since = time.monotonic()
        await send({"type": "http.response.body", "body": data, "more_body": True})
        self.client.sending_since = None


async def _hang_up_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


@endpoint(summary="The live stream of run changes (Server-Sent Events)", tag="streams",
          query=EventsQuery, media_type="text/event-stream", response=STREAM_PAYLOADS,
          description=(
              "Events run_status, run_progress, run_item, queue and reset, each carrying "
              "absolute state; resume with Last-Event-ID or ?after=<cursor>. "
              "A running item's run_item is coalesced to at most one per 0.25 s while "
              "it streams (still its absolute state; its final state at once); a group "
              "whose messages were all held is its id line alone. "
              "?view=board sends no run_item (the board's cards only). "
              "?delta=text: a running item's update may instead be a run_item_delta "
              "{runId, sequence, attempts, offset, text, chunks, lastChunkAt}: text was "
              "streamed after the first offset characters (code points) of attempt "
              "attempts (when more was appended than the preview holds, text is the "
              "whole 280-character preview). Apply it to an item of the same attempts, "
              "still running, with activity.chars <= offset + len(text) and either "
              "activity.chars >= offset or len(text) >= 280: its preview becomes the "
              "last 280 characters of (its text up to offset) + text, its chars offset "
              "+ len(text), its chunks and lastChunkAt the delta's. Ignore it otherwise "
              "(you hold newer state, or not the item): the item's next run_item, sent "
              "whole when it stops running and for every new attempt, brings you up to "
              "date. Openings, resumes, resets and final states stay absolute; applying "
              "a delta twice is harmless."))
async def events(request: Request, query: EventsQuery) -> LiveStream:
    live: LiveLog = request.app.state.live
    fanout: Fanout = request.app.state.fanout
    run_ids = frozenset(query.run_id)
    board_only = query.view == "board"
    client = StreamClient(run_ids=run_ids, board_only=board_only,
                          text_deltas=query.delta == "text")
    # Attach and take the opening in one step (no await between): no batch can fall
    # between what the client missed and what the fan-out hands it next.
    if fanout.closed:
        client.hang_up(abort=False)
    else:
        fanout.attach(client)
    cursor = request.headers.get("last-event-id") or query.after
    opening = opening_frames(live, cursor, run_ids, items=not board_only)
    return LiveStream(live, fanout, client, opening, position=str(live.position),
                      counts=request.app.state.streams)


routes = [Route("/api/events", events, methods=["GET"])]
