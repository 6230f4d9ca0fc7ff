from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.settings import Settings
from tests.support.servers import RunningServer, start_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The embedding model costs seconds of CPU per server; its own tests turn it on.
    return Settings(data_dir=tmp_path / "data", semantic_memory=False)


@pytest.fixture
def server_factory(settings: Settings) -> Iterator[Callable[..., RunningServer]]:
    """Start servers on ``settings`` (or variations of it); all are stopped at the end."""
    started: list[RunningServer] = []

    def start(custom: Settings | None = None) -> RunningServer:
        running = start_server(custom or settings)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.thread.is_alive():
            running.stop()


@pytest.fixture
def server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    """The whole app on a free loopback port over a fresh data directory."""
    return server_factory()
