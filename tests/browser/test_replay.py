"""Replaying a run in the browser: the scrubber steps through the run's events and the
page shows the run as `python -m harness replay --until <cursor>` folds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from events.writer import append_events
from tests.server.test_time_travel import interleaved
from tests.support.waiting import wait_until

ROW = "#items-table tbody tr[data-sequence]"


def replay_cli(*args: str) -> dict:
    """The replay CLI's JSON, run as a user runs it (its own process and event loop)."""
    done = subprocess.run([sys.executable, "-m", "harness", "replay", *args, "--json"],
                          cwd=Path(__file__).parents[2], capture_output=True, timeout=60,
                          check=True)
    return orjson.loads(done.stdout)


def shown_states(page) -> dict[int, str]:
    return dict(page.locator(ROW).evaluate_all(
        "rs => rs.map(r => [Number(r.dataset.sequence), r.dataset.state])"))


def test_the_scrubber_shows_the_run_as_the_replay_cli_folds_it_at_that_event(
        dashboard, server):
    append_events(server.log_path, interleaved())
    server.settle()
    page = dashboard.open("#/runs/mine")
    page.locator(ROW).first.wait_for()
    page.get_by_role("button", name="Replay history").click()
    slider = page.get_by_label("Event of the run's history")
    slider.wait_for()
    label = page.locator("#replay-label")
    label.filter(has_text="event 21 of 21").wait_for()
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    label.filter(has_text="event 8 of 21").wait_for()
    replay = page.locator("#replay")
    wait_until(lambda: replay.get_attribute("data-shown") == replay.get_attribute("data-position"),
               message="the page shows the chosen event")
    cursor = replay.get_attribute("data-position")

    folded = replay_cli(str(server.log_path), "--until", cursor, "--run", "mine")
    expected = {item["sequence"]: state for state, items in folded["groups"].items()
                for item in items}
    wait_until(lambda: shown_states(page) == expected, message="items as the CLI folds them")
    counts = page.locator(".run-header").evaluate(
        "head => Object.fromEntries([...head.querySelectorAll('[data-count]')]"
        ".map(n => [n.dataset.count, Number(n.textContent)]))")
    assert counts["correct"] == folded["counts"]["correct"]
    assert counts["incorrect"] == folded["counts"]["incorrect"]
    assert page.locator(".run-head .badge").inner_text() == "running"

    page.get_by_role("button", name="Next event").click()
    label.filter(has_text="event 9 of 21").wait_for()
    page.get_by_role("button", name="Back to live").click()
    page.locator(".run-head .badge").filter(has_text="completed").wait_for()
    wait_until(lambda: shown_states(page)[2] == "running", message="live again")
