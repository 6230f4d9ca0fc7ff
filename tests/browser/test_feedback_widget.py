"""The feedback widget on a plain file:// page, in a real Chromium."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.servers import RunningServer
from tests.support.waiting import wait_until


def test_feedback_left_on_a_file_page_reaches_the_server(browser, server: RunningServer,
                                                         tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(
        "<!doctype html><title>Report</title>"
        "<style>button{display:none}</style>"  # the page's CSS must not hide the widget
        f'<h1>Quarterly report</h1><script src="{server.url}/widget.js"></script>')
    url = page_file.as_uri()

    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        widget = page.locator("[data-harness-feedback]")
        widget.get_by_role("button", name="Feedback").click()
        widget.get_by_title("Bad").click()
        widget.get_by_placeholder("What about this page?").fill("numbers look off")
        widget.get_by_role("button", name="Point at element").click()
        page.locator("h1").click()
        widget.get_by_role("button", name="Send").click()
        widget.get_by_text("Thank you").wait_for(timeout=10_000)
    finally:
        context.close()

    entries = wait_until(lambda: httpx.get(f"{server.url}/api/page-feedback",
                                           params={"url": url}).json()["entries"],
                         message="page feedback listed")
    assert entries[0]["rating"] == "down"
    assert entries[0]["comment"] == "numbers look off"
    assert entries[0]["selector"] == "html > body > h1"
