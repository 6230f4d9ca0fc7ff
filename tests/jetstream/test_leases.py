"""Run leases in JetStream key-value: one holder at a time, taken over once it expires."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from events.jetstream import JetStreamLog
from harness.kv_leases import KvLeases
from tests.support.nats import NatsServer

pytestmark = pytest.mark.anyio
TTL_S = 1.5


@pytest.fixture
async def log(nats_server: NatsServer) -> AsyncIterator[JetStreamLog]:
    log = JetStreamLog(nats_server.log_url("TEST"))
    yield log
    await log.aclose()


async def test_a_held_lease_is_refused_to_another_replica(log: JetStreamLog) -> None:
    first, second = KvLeases(log, ttl_s=TTL_S), KvLeases(log, ttl_s=TTL_S)
    assert await first.acquire("run-1")
    assert not await second.acquire("run-1")
    assert await first.renew("run-1")
    assert await second.acquire("run-2")


async def test_a_released_lease_can_be_taken_at_once(log: JetStreamLog) -> None:
    first, second = KvLeases(log, ttl_s=TTL_S), KvLeases(log, ttl_s=TTL_S)
    assert await first.acquire("run-1")
    await first.release("run-1")
    assert await second.acquire("run-1")


async def test_a_lease_not_renewed_expires_and_is_taken_over(log: JetStreamLog) -> None:
    dead, survivor = KvLeases(log, ttl_s=TTL_S), KvLeases(log, ttl_s=TTL_S)
    assert await dead.acquire("run-1")
    with anyio.fail_after(10 * TTL_S):
        while not await survivor.acquire("run-1"):
            await anyio.sleep(0.1)
    assert not await dead.renew("run-1")  # the old holder learns it lost the run
