"""What the live stream carries, decoded into the server's own message types, and the
bookkeeping a self-resuming subscriber needs (cursor, backoff, the reset rule).

The transport loops (``subscribe.py``) are a sync and an async twin around this one
state machine, so both resume, back off and reset the same way.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
from httpx_sse import ServerSentEvent

from harness.client.errors import ApiError
from projections.messages import (
    QueueMessage,
    ResetMessage,
    RunItemMessage,
    RunProgressMessage,
    RunStatusMessage,
)
from projections.text_deltas import RunItemDeltaMessage

StreamMessage = (RunStatusMessage | RunProgressMessage | RunItemMessage | RunItemDeltaMessage
                 | QueueMessage | ResetMessage)

FROM_START = "0:0"
"""The cursor of the log's beginning, in any generation: resuming there sends the whole
current state (every run, its changed items, the queue), then the live stream."""

POSITION_HEADER = "x-harness-position"

_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "run_status": msgspec.json.Decoder(RunStatusMessage),
    "run_progress": msgspec.json.Decoder(RunProgressMessage),
    "run_item": msgspec.json.Decoder(RunItemMessage),
    "run_item_delta": msgspec.json.Decoder(RunItemDeltaMessage),
    "queue": msgspec.json.Decoder(QueueMessage),
    "reset": msgspec.json.Decoder(ResetMessage),
}


def decode(event: ServerSentEvent) -> StreamMessage | None:
    """The typed message of an SSE event; ``None`` for pings and for event names this
    client does not know (a newer server may send more)."""
    decoder = _DECODERS.get(event.event)
    return None if decoder is None else decoder.decode(event.data)


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Delays between reconnection attempts: exponential with full jitter, so that many
    subscribers cut off by one server restart do not all come back at the same instant.

    Attempt ``n`` (from 0) waits a random time in ``[0, min(max_s, first_s * 2**n)]``.
    """

    first_s: float = 0.1
    max_s: float = 5.0

    def delay_s(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_s, self.first_s * 2 ** min(attempt, 30)))


DEFAULT_BACKOFF = Backoff()


class SubscriptionState:
    """Where a subscription stands and what to ask for when it (re)connects.

    ``cursor`` is the position after the last whole group of messages handed out: a
    tool that persists it after handling a message and subscribes again with
    ``after=cursor`` misses nothing (it may be sent a little twice; every message is
    absolute state, or a text delta that is harmless to apply again).

    ``text_deltas`` asks for ``run_item_delta`` messages (``?delta=text``): a running
    item's streamed text as what it appended (``projections.text_deltas``;
    ``LiveBoard`` applies them).
    """

    def __init__(self, *, servers: Sequence[str], after: str | None,
                 run_ids: Collection[str], text_deltas: bool = False) -> None:
        if not servers:
            raise ValueError("a subscription needs at least one server URL")
        self.servers = tuple(url.rstrip("/") for url in servers)
        self.server = 0  # which of ``servers`` the next attempt goes to
        self.cursor = after
        self.run_ids = tuple(run_ids)
        self.text_deltas = text_deltas
        self.connects = 0
        self.resets = 0
        self.failures = 0  # consecutive attempts that did not open a stream

    def request(self) -> dict[str, Any]:
        """The arguments of the next ``GET /api/events``: the URL and its options."""
        headers = {"Last-Event-ID": self.cursor} if self.cursor else {}
        params = [("runId", run_id) for run_id in self.run_ids]
        if self.text_deltas:
            params.append(("delta", "text"))
        return {"url": f"{self.servers[self.server]}/api/events", "params": params,
                "headers": headers}

    def failed(self) -> int:
        """An attempt failed or a stream ended: the next goes to the next server (a
        replica following the same log takes the same cursor); returns how many
        attempts in a row have failed."""
        self.failures += 1
        self.server = (self.server + 1) % len(self.servers)
        return self.failures

    def opened(self, response: httpx.Response) -> None:
        """The stream is open (status 200)."""
        self.connects += 1
        self.failures = 0
        if self.cursor is None:
            # A live-only subscriber still needs a point to resume from, or a drop
            # before its first message would lose what happened meanwhile.
            self.cursor = response.headers.get(POSITION_HEADER)

    @staticmethod
    def refusal(response: httpx.Response) -> Exception:
        """What a refused stream request (its body read) raises: the API error for a
        client error, which retrying would not change; else a retryable failure."""
        if 400 <= response.status_code < 500:
            return ApiError.from_response(response)
        return ConnectionError(f"the stream answered {response.status_code}")

    def receive(self, event: ServerSentEvent) -> StreamMessage | None:
        message = decode(event)
        if isinstance(message, ResetMessage):
            # The log was replaced: the consumer drops its state, and the subscription
            # starts over from the new log's beginning so that what follows rebuilds it.
            self.resets += 1
            self.cursor = FROM_START
        elif event.id:
            self.cursor = event.id
        return message

