"""Compare: a picker that reaches every run, and disagreements with the expected answer."""

from __future__ import annotations

import pytest

from events import schema as ev
from events.writer import append_events
from tests.support.events import TS, at, run_history
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


def judged_run(run_id: str, verdicts: list[bool], *, total: int = 40,
               config: dict | None = None) -> list[ev.Event]:
    events: list[ev.Event] = [
        ev.RunCreated(run_id=run_id, provider_name="simulated", model_name=run_id,
                      dataset_name="arithmetic", total=total, config=config or {}, ts=TS),
        ev.RunStarted(run_id=run_id, ts=TS)]
    for sequence, correct in enumerate(verdicts, start=1):
        events += [
            ev.ItemStarted(run_id=run_id, sequence=sequence, prompt_text=f"Q{sequence}?", ts=TS),
            ev.ItemAnswered(run_id=run_id, sequence=sequence, answer="A" if correct else "B",
                            response_text=f"The answer is {'A' if correct else 'B'} for {sequence}",
                            ts=TS),
            ev.ItemJudged(run_id=run_id, sequence=sequence, correct=correct, expected="A",
                          ts=TS)]
    return events


@pytest.mark.parametrize("width", [1280, 390])
def test_compare_reports_n_and_accuracy_on_the_shared_items_with_regressions(
        dashboard, server, width):
    # The baseline judged 40 items (30 right); the other only the first 27, of which it
    # got 2 wrong that the baseline had right, and 1 right that the baseline had wrong.
    base = [sequence % 4 != 0 for sequence in range(1, 41)]
    other = list(base[:27])
    other[0] = other[1] = False  # regressions on #1 and #2
    other[3] = True              # an improvement on #4
    append_events(server.log_path, [*judged_run("run-base", base, config={"seed": 1}),
                                    *judged_run("run-new", other, config={"seed": 2})])
    dashboard.page.set_viewport_size({"width": width, "height": 900})
    page = dashboard.open("#/compare?ids=run-base,run-new")
    pairing = page.locator(".pairing[data-run-id=run-new]")
    pairing.wait_for()
    assert pairing.locator(".shared-n").inner_text() == "n = 27"
    shared_base = sum(base[:27])
    assert pairing.locator(".shared-baseline").inner_text().startswith(
        f"{shared_base / 27 * 100:.1f}%")
    assert pairing.locator(".shared-accuracy").inner_text().startswith(
        f"{sum(other) / 27 * 100:.1f}%")
    assert "pts (95% CI" in pairing.locator(".shared-delta").inner_text()
    assert pairing.get_by_role("tab", name="Regressions (2)").get_attribute(
        "aria-selected") == "true"
    pairing.get_by_role("tab", name="Improvements (1)").click()
    item = pairing.locator("details[data-sequence='4']")
    item.locator("summary").click()
    item.locator(".side-by-side ins").first.wait_for()
    assert "A" in item.locator(".side-by-side ins").first.inner_text()
    assert page.locator("#config-diff tr[data-differs=true]").filter(has_text="seed").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_another_run_can_be_made_the_baseline(dashboard, server):
    append_events(server.log_path, [*judged_run("run-p", [True, True]),
                                    *judged_run("run-q", [False, True])])
    page = dashboard.open("#/compare?ids=run-p,run-q")
    page.locator(".pairing[data-run-id=run-q]").wait_for()
    page.locator("#compare-runs tr[data-run-id=run-q]").get_by_role(
        "link", name="Make baseline").click()
    pairing = page.locator(".pairing[data-run-id=run-p]")
    pairing.wait_for()
    assert "baseline=run-q" in page.url
    assert pairing.get_by_role("tab", name="Improvements (1)").count() == 1
