"""The archive: selections for compare, paging both ways, the label filter."""

from __future__ import annotations

from events import schema as ev
from events.writer import append_events
from tests.support.events import at, run_history
from tests.support.waiting import wait_until

ROW = "#archive tbody tr[data-run-id]"


def row_ids(page) -> list[str]:
    return page.locator(ROW).evaluate_all("rs => rs.map(r => r.dataset.runId)")


def test_selections_stay_across_pages_and_other_datasets_cannot_be_ticked(dashboard, server):
    events: list[ev.Event] = []
    for number in range(52):
        events += run_history(f"run-{number:02d}", answers=(True, number % 2 == 0, True))
    events.append(ev.RunCreated(run_id="run-trivia", provider_name="simulated",
                                model_name="gpt-test", dataset_name="trivia", total=3,
                                ts=at("2026-03-06T20:00:00.000001Z")))
    append_events(server.log_path, events)
    page = dashboard.open("#/archive")
    page.locator(ROW).first.wait_for()
    first_page = row_ids(page)
    assert first_page[0] == "run-trivia"
    trivia = page.get_by_label("Select run-trivia to compare")
    first = first_page[1]
    page.get_by_label(f"Select {first} to compare").check()
    assert trivia.is_disabled()

    page.get_by_role("link", name="Older →").click()
    second_page = wait_until(lambda: (ids := row_ids(page)) and ids[0] not in first_page and ids,
                             message="page 2")
    second = second_page[0]
    page.get_by_label(f"Select {second} to compare").check()
    assert "2 selected" in page.locator("#main").inner_text()

    page.get_by_role("link", name="← Newer").click()
    wait_until(lambda: row_ids(page) == first_page, message="back on page 1")
    assert page.get_by_label(f"Select {first} to compare").is_checked()
    assert page.get_by_label("Select run-trivia to compare").is_disabled()

    page.get_by_role("button", name="Compare selected").click()
    page.locator("#compare-runs tbody tr").nth(1).wait_for()
    assert "422" not in page.locator("#main").inner_text()
    assert sorted(page.locator("#compare-runs tbody tr .mono").all_inner_texts()) == \
        sorted([first, second])


def test_the_label_filter_narrows_the_archive(dashboard, server):
    append_events(server.log_path, [
        *run_history("run-plain"),
        ev.RunCreated(run_id="run-labelled", provider_name="simulated", model_name="gpt-test",
                      dataset_name="arithmetic", total=3, labels={"team": "evals"},
                      ts=at("2026-03-06T20:00:00Z"))])
    page = dashboard.open("#/archive")
    wait_until(lambda: len(row_ids(page)) == 2, message="both runs")
    page.get_by_label("Label (key:value)").fill("team:evals")
    page.get_by_role("button", name="Apply").click()
    wait_until(lambda: row_ids(page) == ["run-labelled"], message="labelled run only")
    assert "label=team%3Aevals" in page.url or "label=team:evals" in page.url
