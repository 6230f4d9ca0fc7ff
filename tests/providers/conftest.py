from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tests.fakes.openai_server import FakeOpenAI, RunningFake


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _fake_openai_server() -> Iterator[RunningFake]:
    """The fake OpenAI server on a free loopback port, in a thread of its own."""
    fake = FakeOpenAI()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.01)
    yield RunningFake(fake=fake, base_url=f"http://127.0.0.1:{port}/v1")
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def fake_openai(_fake_openai_server: RunningFake) -> RunningFake:
    """The shared fake server, with a clean request log and misbehaviour state."""
    _fake_openai_server.fake.reset()
    return _fake_openai_server
