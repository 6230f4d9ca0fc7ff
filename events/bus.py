"""An in-process broadcast bus: every subscriber sees every message, in order.

anyio has no broadcast primitive (a cloned receive stream *splits* items between its
readers), so each subscriber gets its own bounded memory stream and ``publish`` feeds
them all with ``send_nowait``. The publisher never waits: a subscriber whose buffer is
full is dropped on the spot, its stream ends, and it is expected to come back with the
last position it saw. That keeps one stalled client from slowing the log reader or
anybody else.

A listener (``listen``) is called synchronously by ``publish`` instead: for a fan-out
that does its own buffering per client (SSE), with no stream or task per subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Generic, NamedTuple, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

T = TypeVar("T")


class BusStatistics(NamedTuple):
    subscribers: int
    published: int
    dropped: int


class Subscription(Generic[T]):
    """One subscriber's view of the bus; iterate it, and close it when done.

    Iteration ends when the subscriber is dropped for falling behind (``dropped`` is
    then true) or when the bus closes.
    """

    def __init__(self, bus: Broadcast[T], send: MemoryObjectSendStream[T],
                 receive: MemoryObjectReceiveStream[T]) -> None:
        self._bus = bus
        self._send = send
        self._receive = receive
        self.dropped = False
        self.cut_off = anyio.Event()  # set when the bus drops this subscriber

    def __aiter__(self) -> AsyncIterator[T]:
        return self._receive.__aiter__()

    async def receive(self) -> T:
        return await self._receive.receive()

    def close(self) -> None:
        self._bus._discard(self)
        self._send.close()
        self._receive.close()

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Broadcast(Generic[T]):
    """Fan-out of messages to subscribers with one bounded buffer each.

    ``buffer_size`` is how many messages a subscriber may lag behind before it is
    dropped. Messages are shared, not copied: publish immutable ones.
    """

    def __init__(self, *, buffer_size: int = 1024) -> None:
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self.buffer_size = buffer_size
        self._subscribers: dict[Subscription[T], None] = {}
        self._listeners: dict[Callable[[T], None], None] = {}
        self._published = 0
        self._dropped = 0

    def subscribe(self, *, buffer_size: int | None = None) -> Subscription[T]:
        send, receive = anyio.create_memory_object_stream[T](buffer_size or self.buffer_size)
        subscription = Subscription(self, send, receive)
        self._subscribers[subscription] = None
        return subscription

    def listen(self, listener: Callable[[T], None]) -> None:
        """Call ``listener(message)`` on every publish, in the publisher's step; it
        must not block."""
        self._listeners[listener] = None

    def unlisten(self, listener: Callable[[T], None]) -> None:
        self._listeners.pop(listener, None)

    def publish(self, message: T) -> None:
        self._published += 1
        for listener in list(self._listeners):
            listener(message)
        for subscription in list(self._subscribers):
            try:
                subscription._send.send_nowait(message)
            except anyio.WouldBlock:
                self._drop(subscription)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._discard(subscription)

    def close(self) -> None:
        """End every subscription's iteration, e.g. at shutdown."""
        for subscription in list(self._subscribers):
            self._discard(subscription)
            subscription._send.close()

    def statistics(self) -> BusStatistics:
        return BusStatistics(len(self._subscribers) + len(self._listeners), self._published,
                             self._dropped)

    def _drop(self, subscription: Subscription[T]) -> None:
        self._dropped += 1
        subscription.dropped = True
        subscription.cut_off.set()
        self._discard(subscription)
        # Closing the send side lets the subscriber drain what it already has, then
        # see the end of the stream, so it learns it was cut off where it stands.
        subscription._send.close()

    def _discard(self, subscription: Subscription[T]) -> None:
        self._subscribers.pop(subscription, None)
