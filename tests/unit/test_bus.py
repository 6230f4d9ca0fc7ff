"""The bus copies every message to every subscriber and drops one that falls behind."""

from __future__ import annotations

import anyio
import pytest

from events.bus import Broadcast

pytestmark = pytest.mark.anyio


async def test_every_subscriber_receives_every_message_in_order() -> None:
    bus: Broadcast[int] = Broadcast(buffer_size=8)
    with bus.subscribe() as first, bus.subscribe() as second:
        for number in range(5):
            bus.publish(number)
        assert [await first.receive() for _ in range(5)] == [0, 1, 2, 3, 4]
        assert [await second.receive() for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_a_subscriber_that_falls_behind_is_dropped_and_others_keep_going() -> None:
    bus: Broadcast[int] = Broadcast(buffer_size=2)
    with bus.subscribe() as slow, bus.subscribe() as fast:
        received: list[int] = []
        for number in range(5):
            bus.publish(number)  # never blocks, whoever is slow
            received.append(await fast.receive())
        assert received == [0, 1, 2, 3, 4]
        assert slow.dropped and not fast.dropped
        assert [message async for message in slow] == [0, 1]  # what it had, then the end
        assert bus.statistics().subscribers == 1
        assert bus.statistics().dropped == 1


async def test_closing_the_bus_ends_every_subscription() -> None:
    bus: Broadcast[int] = Broadcast()
    received: list[int] = []

    async def drain() -> None:
        with subscription:
            received.extend([message async for message in subscription])

    subscription = bus.subscribe()
    with anyio.fail_after(2):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(drain)
            bus.publish(7)
            bus.close()
    assert received == [7]
    assert bus.statistics().subscribers == 0


async def test_a_closed_subscription_stops_receiving() -> None:
    bus: Broadcast[int] = Broadcast()
    with bus.subscribe():
        pass
    bus.publish(1)
    assert bus.statistics().subscribers == 0
