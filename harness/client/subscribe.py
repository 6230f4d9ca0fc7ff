"""``subscribe``: the live stream as an endless iterator of typed messages, sync and async.

A subscription reconnects by itself when the connection drops or the server restarts:
it waits a jittered, growing delay (``Backoff``), resumes with ``Last-Event-ID`` from
its cursor, and so misses nothing. On ``reset`` (the log was replaced) it hands the
``ResetMessage`` on, then starts over from the new log's beginning. It ends only when
the consumer stops iterating, or raises ``ApiError`` if the server refuses the request
itself (a 4xx: retrying would not help).
"""

from __future__ import annotations

import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Collection,
    Generator,
    Iterator,
    Sequence,
)

import anyio
import httpx
from httpx_sse import aconnect_sse, connect_sse

from harness.client.stream import (
    DEFAULT_BACKOFF,
    Backoff,
    StreamMessage,
    SubscriptionState,
)
from projections.messages import ResetMessage

# Transport failures and servers going away: retried. Anything else is a bug to surface.
RETRYABLE = (httpx.TransportError, ConnectionError)


class Subscription(SubscriptionState):
    """A blocking iterator over the stream; read ``cursor`` to persist where you are.

    ``with harness.subscribe() as subscription: for message in subscription: ...``
    """

    def __init__(self, http: httpx.Client, *, servers: Sequence[str], after: str | None = None,
                 run_ids: Collection[str] = (), backoff: Backoff = DEFAULT_BACKOFF,
                 text_deltas: bool = False) -> None:
        super().__init__(servers=servers, after=after, run_ids=run_ids,
                         text_deltas=text_deltas)
        self._http = http
        self._backoff = backoff
        self._iterator: Generator[StreamMessage, None, None] | None = None

    def __iter__(self) -> Iterator[StreamMessage]:
        if self._iterator is None:
            self._iterator = self._messages()
        return self._iterator

    def close(self) -> None:
        """Hang up (an iteration in progress ends) and release the connection."""
        if self._iterator is not None:
            self._iterator.close()
        self._http.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _messages(self) -> Generator[StreamMessage, None, None]:
        while True:
            try:
                with connect_sse(self._http, "GET", **self.request()) as source:
                    if source.response.status_code != 200:
                        source.response.read()
                        raise self.refusal(source.response)
                    self.opened(source.response)
                    for event in source.iter_sse():
                        message = self.receive(event)
                        if message is not None:
                            yield message
                            if isinstance(message, ResetMessage):
                                break  # and reconnect at once, from the new log's start
                    else:
                        raise ConnectionError("the server closed the stream")
                continue
            except RETRYABLE:
                pass
            time.sleep(self._backoff.delay_s(self.failed() - 1))


class AsyncSubscription(SubscriptionState):
    """The same over anyio: ``async with harness.subscribe() as subscription:
    async for message in subscription: ...``"""

    def __init__(self, http: httpx.AsyncClient, *, servers: Sequence[str],
                 after: str | None = None, run_ids: Collection[str] = (),
                 backoff: Backoff = DEFAULT_BACKOFF, text_deltas: bool = False) -> None:
        super().__init__(servers=servers, after=after, run_ids=run_ids,
                         text_deltas=text_deltas)
        self._http = http
        self._backoff = backoff
        self._iterator: AsyncGenerator[StreamMessage, None] | None = None

    def __aiter__(self) -> AsyncIterator[StreamMessage]:
        if self._iterator is None:
            self._iterator = self._messages()
        return self._iterator

    async def aclose(self) -> None:
        """Hang up and release the connection. Breaking out of ``async for`` does not
        close an async iterator: use ``async with``, or call this."""
        if self._iterator is not None:
            await self._iterator.aclose()
        await self._http.aclose()

    async def __aenter__(self) -> AsyncSubscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _messages(self) -> AsyncGenerator[StreamMessage, None]:
        while True:
            try:
                async with aconnect_sse(self._http, "GET", **self.request()) as source:
                    if source.response.status_code != 200:
                        await source.response.aread()
                        raise self.refusal(source.response)
                    self.opened(source.response)
                    async for event in source.aiter_sse():
                        message = self.receive(event)
                        if message is not None:
                            yield message
                            if isinstance(message, ResetMessage):
                                break  # and reconnect at once, from the new log's start
                    else:
                        raise ConnectionError("the server closed the stream")
                continue
            except RETRYABLE:
                pass
            await anyio.sleep(self._backoff.delay_s(self.failed() - 1))
