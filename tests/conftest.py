from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from harness.settings import Settings
from tests.support.nats import MISSING_REASON, NATS_SERVER, NatsServer
from tests.support.servers import RunningServer, start_server
from tests.support.tls import share_the_default_tls_context

share_the_default_tls_context()  # each httpx client cost ~45 ms of CPU without it

# CI explores the same examples every run, so a red build can be reproduced; local
# runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per CPU this process may use, and two more (xdist's own
    count takes physical cores, one on many two-vCPU machines). The extra ones keep the
    CPUs busy while others wait on servers, browsers and timers: on two CPUs the suite
    took 100-103 s with four workers, 108-112 s with three and 96-103 s with five.
    Not many more: the tests of stalled and idle clients wait on the server's timers,
    and a starved server misses them.
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides if set."""
    if chosen := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(chosen)
    return len(os.sched_getaffinity(0)) + 2


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def settings_in(folder: Path) -> Settings:
    # The embedding model costs seconds of CPU per server; its own tests turn it on.
    return Settings(data_dir=folder / "data", semantic_memory=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path)


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


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for a whole module, for tests that only read what the module put in
    its log (a server start and stop costs about 0.3 s; some modules look at one log
    forty times). A test that writes, restarts or stops a server takes ``server``."""
    running = start_server(settings_in(tmp_path_factory.mktemp("module-server")))
    yield running
    if running.thread.is_alive():
        running.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A ``nats-server -js`` on a free loopback port over a fresh store, stopped at the end."""
    if NATS_SERVER is None:
        pytest.skip(MISSING_REASON)
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()
