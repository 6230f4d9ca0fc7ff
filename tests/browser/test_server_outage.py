"""The dashboard while its server is away: a banner says the numbers are stale, dims
them, and disables commands. Apart from ``test_accessibility``, whose tests share one
server: stopping a server in this process ends every other one's live streams."""

from __future__ import annotations

from tests.browser.conftest import dashboard_on, sync_api
from tests.browser.test_accessibility import populate
from tests.support.servers import RunningServer


def test_an_outage_shows_a_banner_dims_the_numbers_and_disables_commands(
        browser: sync_api.Browser, server: RunningServer) -> None:
    with dashboard_on(browser, populate(server)) as dashboard:
        page = dashboard.open()
        cancel = dashboard.card("run-live").get_by_role("button", name="Cancel")
        cancel.wait_for()
        assert cancel.is_enabled()
        server.stop()
        page.locator("#outage").filter(has_text="stale").wait_for()
        assert cancel.is_disabled()
        opacity = dashboard.card("run-live").locator(".live-number").first.evaluate(
            "n => Number(getComputedStyle(n).opacity)")
        assert opacity < 0.6
