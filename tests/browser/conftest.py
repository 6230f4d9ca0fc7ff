"""Browser tests: Debian's Chromium driven by Playwright against the real server.

The browser is Chromium's headless shell (Debian's ``chromium-headless-shell``: the same
Blink and V8 as ``chromium``, without the desktop browser around them), which is what
Playwright itself runs headless tests on. The full browser in headless mode cost about
40 % more CPU over these tests, on a machine whose CPUs they keep busy.

Skipped with a reason when the headless shell or Playwright is missing (``.ci/run``
installs it). Every page fails its test on an uncaught script error.
"""

from __future__ import annotations

import os
import socket
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support.servers import RunningServer

CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium-headless-shell)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright for Python is not installed")


class _Chromium:
    """One Playwright driver and Chromium for this process's browser tests in a row.

    Not one for the whole process: while Playwright's sync API is open, its event loop
    counts as running in this thread, and an anyio test fails ("Cannot run the event
    loop while another loop is running"). So it closes before any test from elsewhere
    (``pytest_runtest_teardown``); pytest-xdist hands a worker these modules mostly one
    after another, and a driver and browser cost about 0.9 s of CPU to start.

    Every host but loopback is cut off: Chromium sends it to a proxy at a loopback port
    that is bound and never listens, so the request fails at once and never leaves the
    machine (Chromium bypasses proxies for loopback on its own). Intercepting requests
    with ``page.route`` instead cost a third of a dashboard load's CPU: every request is
    then paused and let go through the driver."""

    def __init__(self) -> None:
        self._open = ExitStack()
        self.browser: sync_api.Browser | None = None

    def get(self) -> sync_api.Browser:
        if self.browser is None or not self.browser.is_connected():
            self.close()
            nowhere = self._open.enter_context(socket.socket())
            nowhere.bind(("127.0.0.1", 0))
            playwright = self._open.enter_context(sync_api.sync_playwright())
            proxy = f"--proxy-server=http://127.0.0.1:{nowhere.getsockname()[1]}"
            self.browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                      args=[*CHROMIUM_ARGS, proxy])
            self._open.callback(self.browser.close)
        return self.browser

    def close(self) -> None:
        self.browser = None
        self._open.close()


_chromium = _Chromium()


@pytest.fixture(scope="module")
def browser() -> sync_api.Browser:
    """Chromium; its tests take turns on a page left as a fresh one would be
    (``dashboard_on``)."""
    return _chromium.get()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After a browser test and its fixtures, close Chromium unless another comes next."""
    yield
    if nextitem is None or not nextitem.path.is_relative_to(Path(__file__).parent):
        _chromium.close()


class Dashboard:
    """A page of the dashboard on one server, cut off from every host but loopback
    (``browser``); ``blocked`` lists what it asked of other hosts.

    Its page may have served an earlier test (``dashboard_on``): change it for good (a
    clock, an init script) only through ``install_clock`` and ``add_init_script``,
    which keep it from the next test.
    """

    def __init__(self, page: sync_api.Page, server: RunningServer) -> None:
        self.page = page
        self.server = server
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.changed_for_good = False
        self._note_error = lambda error: self.errors.append(str(error))
        page.on("pageerror", self._note_error)
        page.on("requestfailed", self._note_failure)

    def _note_failure(self, request: sync_api.Request) -> None:
        if not request.url.startswith(f"{self.server.url}/"):
            self.blocked.append(request.url)

    def open(self, hash_path: str = "#/") -> sync_api.Page:
        self.page.goto(f"{self.server.url}/{hash_path}")
        self.wait_live()
        return self.page

    def wait_live(self, timeout_ms: float = 10_000) -> None:
        self.page.wait_for_selector("#connection[data-state=live]", timeout=timeout_ms)

    def install_clock(self) -> None:
        self.changed_for_good = True
        self.page.clock.install()

    def add_init_script(self, script: str) -> None:
        self.changed_for_good = True
        self.page.add_init_script(script)

    def card(self, run_id: str) -> sync_api.Locator:
        return self.page.locator(f'.card[data-run-id="{run_id}"]')

    def card_counts(self, run_id: str) -> dict[str, int]:
        return self.card(run_id).evaluate(
            "card => Object.fromEntries([...card.querySelectorAll('[data-count]')]"
            ".map(n => [n.dataset.count, Number(n.textContent)]))")

    def let_go(self) -> bool:
        """Leave the page as a fresh one would be (its handlers, storage, size and
        colour scheme); whether it may serve another test."""
        page = self.page
        page.remove_listener("pageerror", self._note_error)
        page.remove_listener("requestfailed", self._note_failure)
        if self.changed_for_good or page.is_closed():
            return False
        try:
            if page.url.startswith(self.server.url):
                page.evaluate("localStorage.clear(); sessionStorage.clear()")
            page.goto("about:blank")  # ends its streams from the server
            page.context.clear_cookies()
            page.set_viewport_size(VIEWPORT)
            page.emulate_media(media="screen", color_scheme="light")
        except sync_api.Error:  # a page that crashed or hangs: the next test gets a new one
            return False
        return True


VIEWPORT = {"width": 1280, "height": 900}
# The page kept for the browser's next test: navigating a page again costs about half
# the CPU of a new context and page (a renderer process each, ~0.6 s), and the browser
# tests load the dashboard about a hundred times, on CPUs shared with everything else.
_spare_pages: weakref.WeakKeyDictionary[sync_api.Browser, sync_api.Page] = \
    weakref.WeakKeyDictionary()


@contextmanager
def dashboard_on(browser: sync_api.Browser, server: RunningServer) -> Iterator[Dashboard]:
    """A page on ``server`` as a fresh browser context's; no uncaught page error by its
    end."""
    page = _spare_pages.pop(browser, None)
    if page is None:
        page = browser.new_context(viewport=VIEWPORT).new_page()
    board = Dashboard(page, server)
    try:
        yield board
    finally:
        if board.let_go():
            _spare_pages[browser] = page
        else:
            page.context.close()
    assert board.errors == [], f"uncaught errors in the page: {board.errors}"


@pytest.fixture
def dashboard(browser: sync_api.Browser, server: RunningServer) -> Iterator[Dashboard]:
    with dashboard_on(browser, server) as board:
        yield board
