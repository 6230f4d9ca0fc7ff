"""A server that stops ends its own live streams cleanly and no one else's: two servers
in one process (an app embedded twice, or the tests' in-thread servers) each keep their
streams until they themselves stop (``web.connections.SHUTDOWN_EXTENSION``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import anyio
import anyio.to_thread
import httpx
import pytest

from harness.settings import Settings
from tests.server.test_fanout_writes import streams_open
from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.sse import RawEventStream, sse_stream

pytestmark = pytest.mark.anyio


async def test_stopping_one_server_ends_its_streams_and_leaves_the_others_live(
        settings: Settings, server_factory: Callable[..., RunningServer]) -> None:
    stopping = server_factory()
    # Pinged at every tick of its fan-out: a ping after the stop shows that the
    # fan-out has looked at the world since.
    staying = server_factory(replace(settings, data_dir=settings.data_dir / "staying",
                                     sse_ping_s=0.01))
    async with httpx.AsyncClient() as client, sse_stream(staying.url) as stream:
        start = (await client.get(f"{stopping.url}/api/health")).json()["position"]
        ending = RawEventStream(stopping.url, after=start)
        try:
            await streams_open(client, stopping, 1)
            await anyio.to_thread.run_sync(stopping.stop)
            await anyio.to_thread.run_sync(ending.read_to_end)
        finally:
            ending.close()
        assert (await stream.next(pings=True)).event == "ping"
        append(staying.log_path, *run_history("after-the-stop", total=2))
        message = await stream.next()
    assert message.data["runId"] == "after-the-stop"
