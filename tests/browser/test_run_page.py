"""The run page: items in their own state's colour, streaming text, canceling, unknown ids."""

from __future__ import annotations

from events import schema as ev
from events.writer import append_events
from tests.browser.test_focus import at, judged, started

BADGE = "details[data-group={}] .item .badge"


def test_each_item_state_has_its_own_badge_colour_and_a_streaming_item_shows_its_text(
        dashboard, server):
    run = "run-mixed"
    append_events(server.log_path, [
        *started(run, 1, total=6), *judged(run, 1, 2),
        ev.ItemStarted(run_id=run, sequence=2, prompt_text="Q2?", ts=at(3)),
        ev.ItemAnswered(run_id=run, sequence=2, response_text="B", answer="B", ts=at(3)),
        ev.ItemJudged(run_id=run, sequence=2, correct=False, expected="A", ts=at(3)),
        ev.ItemStarted(run_id=run, sequence=3, prompt_text="Q3?", ts=at(4)),
        ev.ItemAnswered(run_id=run, sequence=3, response_text="maybe", ts=at(4)),
        ev.ItemStarted(run_id=run, sequence=4, prompt_text="Q4?", ts=at(5)),
        ev.ItemFaulted(run_id=run, sequence=4, error="timeout", ts=at(5)),
        ev.ItemStarted(run_id=run, sequence=5, prompt_text="first line\nsecond line", ts=at(6)),
        ev.ItemDelta(run_id=run, sequence=5, text="thinking it over", ts=at(6))])
    page = dashboard.open(f"#/runs/{run}")
    page.locator(".item[data-sequence='5']").wait_for(state="attached")
    page.evaluate("document.querySelectorAll('details.group').forEach(d => d.open = true)")

    colours = {state: page.locator(BADGE.format(state)).first.evaluate(
        "b => getComputedStyle(b).color")
        for state in ("correct", "incorrect", "awaiting", "faulted", "running")}
    assert len(set(colours.values())) == 5, colours
    assert page.locator(BADGE.format("incorrect")).first.inner_text() == "incorrect"
    streaming = page.locator(".item[data-sequence='5']")
    assert "thinking it over" in streaming.locator(".streaming").inner_text()
    assert streaming.locator(".prompt").inner_text() == "first line\nsecond line"

    append_events(server.log_path, [ev.ItemDelta(run_id=run, sequence=5, text=", then more",
                                                 ts=at(7))])
    streaming.locator(".streaming").filter(has_text="then more").wait_for()


def test_a_running_run_asked_to_stop_says_canceling(dashboard, server):
    append_events(server.log_path, started("run-stopping", 1))
    page = dashboard.open("#/runs/run-stopping")
    badge = page.locator(".run-head .badge")
    badge.filter(has_text="running").wait_for()
    append_events(server.log_path, [ev.RunCancelRequested(run_id="run-stopping", ts=at(2))])
    badge.filter(has_text="canceling").wait_for()


def test_an_unknown_run_says_so_instead_of_loading_forever(dashboard, server):
    page = dashboard.open("#/runs/no-such-run")
    page.locator(".items .error").filter(has_text="No such run").wait_for()
    assert "Loading" not in page.locator("#main").inner_text()
    assert page.locator(".logs").is_hidden()
