"""Browser tests: Debian's Chromium driven by Playwright against the real server.

Skipped with a reason when ``/usr/bin/chromium`` or Playwright is missing (``.ci/run``
installs Chromium). Every page fails its test on an uncaught script error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.servers import RunningServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright for Python is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    """One Chromium per module; every test gets a fresh context of its own
    (``dashboard_on``). Not one per process: while Playwright's sync API is open, its
    event loop counts as running in this thread, and every later anyio test in the
    process fails ("Cannot run the event loop while another loop is running")."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Dashboard:
    """A page of the dashboard on one server, cut off from every other host."""

    def __init__(self, page: sync_api.Page, server: RunningServer) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        self.blocked: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Only what is NOT the server's is intercepted: the driver matches a regular
        # expression itself, where a handler for every request would cost a round trip to
        # this process per module of the page (~0.25 s a load).
        page.route(re.compile(f"^(?!{re.escape(server.url)}/)"), self._block)

    def _block(self, route: sync_api.Route) -> None:
        self.blocked.append(route.request.url)
        route.abort("internetdisconnected")

    def open(self, hash_path: str = "#/") -> sync_api.Page:
        self.page.goto(f"{self.server.url}/{hash_path}")
        self.wait_live()
        return self.page

    def wait_live(self, timeout_ms: float = 10_000) -> None:
        self.page.wait_for_selector("#connection[data-state=live]", timeout=timeout_ms)

    def card(self, run_id: str) -> sync_api.Locator:
        return self.page.locator(f'.card[data-run-id="{run_id}"]')

    def card_counts(self, run_id: str) -> dict[str, int]:
        return self.card(run_id).evaluate(
            "card => Object.fromEntries([...card.querySelectorAll('[data-count]')]"
            ".map(n => [n.dataset.count, Number(n.textContent)]))")


@contextmanager
def dashboard_on(browser: sync_api.Browser, server: RunningServer) -> Iterator[Dashboard]:
    """A fresh browser context on ``server``; no uncaught page error by its end."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    board = Dashboard(context.new_page(), server)
    yield board
    context.close()
    assert board.errors == [], f"uncaught errors in the page: {board.errors}"


@pytest.fixture
def dashboard(browser: sync_api.Browser, server: RunningServer) -> Iterator[Dashboard]:
    with dashboard_on(browser, server) as board:
        yield board
