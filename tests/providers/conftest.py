from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_server import FakeOpenAI, RunningFake
from tests.support.ports import free_port
from tests.support.servers import serve_in_thread, stop_in_thread


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[RunningFake]:
    """The fake OpenAI server on a free loopback port, in a thread of its own."""
    fake = FakeOpenAI()
    port = free_port()
    server, thread = serve_in_thread(fake.app, port=port, lifespan="off")
    yield RunningFake(fake=fake, base_url=f"http://127.0.0.1:{port}/v1")
    stop_in_thread(server, thread)


@pytest.fixture
def fake_openai(_fake_openai_server: RunningFake) -> RunningFake:
    """The shared fake server, with a clean request log and misbehaviour state."""
    _fake_openai_server.fake.reset()
    return _fake_openai_server
