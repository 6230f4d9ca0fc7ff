"""The connection pill shows when the server has lost its log (a NATS outage)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from harness.settings import Settings
from tests.browser.conftest import Dashboard, dashboard_on, sync_api
from tests.support.nats import NatsServer
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until

LOG_CHECK_MS = 5000  # web/static/js/app.js: how often the page looks


@pytest.fixture
def replica(server_factory: Callable[..., RunningServer], settings: Settings,
            nats_server: NatsServer) -> RunningServer:
    return server_factory(replace(settings, log=nats_server.log_url()))


@pytest.fixture
def board(browser: sync_api.Browser, replica: RunningServer) -> Iterator[Dashboard]:
    with dashboard_on(browser, replica) as dashboard:
        yield dashboard


def test_the_pill_says_the_log_is_offline_while_nats_is_away(
        board: Dashboard, replica: RunningServer, nats_server: NatsServer) -> None:
    # The page asks the server about its log every few seconds: its clock is moved on to
    # its next look once the server knows, rather than waited for.
    board.install_clock()
    page = board.open()
    nats_server.stop()
    wait_until(lambda: log_connected(replica) is False, timeout_s=20, message="log lost")
    page.clock.fast_forward(LOG_CHECK_MS)
    page.wait_for_selector("#connection[data-state=degraded]", timeout=20_000)
    assert page.locator("#connection").text_content() == "log offline"
    nats_server.start()
    wait_until(lambda: log_connected(replica), timeout_s=20, message="log back")
    page.clock.fast_forward(LOG_CHECK_MS)
    board.wait_live(timeout_ms=20_000)


def log_connected(server: RunningServer) -> bool:
    """What the server's health says (a 503 while the log is away)."""
    return httpx.get(f"{server.url}/api/health").json()["logConnection"]["connected"]
