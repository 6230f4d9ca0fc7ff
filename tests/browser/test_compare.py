"""Compare: a picker that reaches every run, and disagreements with the expected answer."""

from __future__ import annotations

from events import schema as ev
from events.writer import append_events
from tests.support.events import at, run_history
from tests.support.waiting import wait_until

PICKER_ROW = "#compare-picker tbody tr[data-run-id]"


def test_the_picker_filters_by_dataset_and_pages_to_older_runs(dashboard, server):
    events: list[ev.Event] = []
    for number in range(55):
        events += run_history(f"run-{number:02d}")
    events.append(ev.RunCreated(run_id="run-trivia", provider_name="simulated",
                                model_name="gpt-test", dataset_name="trivia", total=3,
                                ts=at("2026-03-06T20:00:00Z")))
    append_events(server.log_path, events)
    page = dashboard.open("#/compare")
    rows = page.locator(PICKER_ROW)
    wait_until(lambda: rows.count() == 50, message="first page")
    page.get_by_role("button", name="Older runs").click()
    wait_until(lambda: rows.count() == 56, message="every run")
    assert page.get_by_role("button", name="Older runs").is_hidden()

    page.get_by_label("Dataset").fill("trivia")
    page.get_by_role("button", name="Find").click()
    wait_until(lambda: rows.count() == 1, message="trivia only")
    assert rows.first.get_attribute("data-run-id") == "run-trivia"


def test_disagreements_show_the_expected_answer(dashboard, server):
    append_events(server.log_path, [*run_history("run-x", answers=(True, True, True)),
                                    *run_history("run-y", answers=(True, False, True))])
    page = dashboard.open("#/compare")
    page.get_by_label("Compare run-x").check()
    page.get_by_label("Compare run-y").check()
    page.get_by_role("button", name="Compare", exact=True).click()
    row = page.locator("#disagreements tbody tr").first
    row.wait_for()
    assert row.locator("td.expected").inner_text() == "A"
    assert page.locator("#truncated").count() == 0
