"""The connection pill shows when the server has lost its log (a NATS outage)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from harness.settings import Settings
from tests.browser.conftest import Dashboard, dashboard_on, sync_api
from tests.support.nats import NatsServer
from tests.support.servers import RunningServer


@pytest.fixture
def replica(server_factory: Callable[..., RunningServer], settings: Settings,
            nats_server: NatsServer) -> RunningServer:
    return server_factory(replace(settings, log=nats_server.log_url()))


@pytest.fixture
def board(browser: sync_api.Browser, replica: RunningServer) -> Iterator[Dashboard]:
    with dashboard_on(browser, replica) as dashboard:
        yield dashboard


def test_the_pill_says_the_log_is_offline_while_nats_is_away(
        board: Dashboard, nats_server: NatsServer) -> None:
    page = board.open()
    nats_server.stop()
    page.wait_for_selector("#connection[data-state=degraded]", timeout=20_000)
    assert page.locator("#connection").text_content() == "log offline"
    nats_server.start()
    board.wait_live(timeout_ms=20_000)
