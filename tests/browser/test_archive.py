"""The archive: selections for compare, paging both ways, the label filter."""

from __future__ import annotations

from events import schema as ev
from events.writer import append_events
from tests.support.events import TS, at, run_history
from tests.support.waiting import wait_until

ROW = "#archive tbody tr[data-run-id]"
FIGURES_MS = 2000  # web/static/js/archive.js: how often at most live figures are fetched


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


def created_at(run_id: str, ts_text: str, *, model: str = "gpt-test",
               status: str | None = "completed") -> list[ev.Event]:
    ts = at(ts_text)
    events: list[ev.Event] = [
        ev.RunCreated(run_id=run_id, provider_name="simulated", model_name=model,
                      dataset_name="arithmetic", total=2, ts=ts),
        ev.RunStarted(run_id=run_id, ts=ts)]
    if status:
        events.append(ev.RunFinished(run_id=run_id, status=status, ts=ts))  # type: ignore[arg-type]
    return events


def test_keyboard_users_can_change_the_status_filter_again_and_again(dashboard, server):
    append_events(server.log_path, [*created_at("run-done", "2026-03-06T10:00:00Z"),
                                    *created_at("run-live", "2026-03-06T11:00:00Z", status=None),
                                    *created_at("run-bad", "2026-03-06T12:00:00Z",
                                                status="failed")])
    page = dashboard.open("#/archive")
    wait_until(lambda: len(row_ids(page)) == 3, message="all runs")
    page.get_by_label("running", exact=True).focus()
    page.keyboard.press("Space")
    wait_until(lambda: row_ids(page) == ["run-live"], message="running only")
    assert page.evaluate("document.activeElement.value") == "running"
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # and completed too: a multi-select
    wait_until(lambda: row_ids(page) == ["run-live", "run-done"], message="two statuses")
    assert page.evaluate("document.activeElement.value") == "completed"
    assert "status=running%2Ccompleted" in page.url or "status=running,completed" in page.url


def test_filters_ignore_letter_case_and_suggest_names_from_every_run(dashboard, server):
    events: list[ev.Event] = []
    for number in range(60):
        events += created_at(f"run-{number:02d}", f"2026-03-06T10:{number:02d}:00Z",
                             model=f"Model-{number:02d}")
    append_events(server.log_path, events)
    page = dashboard.open("#/archive")
    page.locator(ROW).first.wait_for()
    options = page.locator("#suggest-model option")
    wait_until(lambda: options.count() == 60, message="suggestions from all runs")
    page.get_by_label("Model").fill("model-03")  # the run says Model-03
    page.get_by_role("button", name="Apply").click()
    wait_until(lambda: row_ids(page) == ["run-03"], message="case-insensitive model")


def test_runs_are_sorted_by_creation_time_counted_and_sortable(dashboard, server):
    # Written to the log out of creation order, as another writer might.
    append_events(server.log_path, [*created_at("run-late", "2026-03-06T12:00:00Z"),
                                    *created_at("run-early", "2026-03-06T08:00:00Z"),
                                    *created_at("run-mid", "2026-03-06T10:00:00Z")])
    page = dashboard.open("#/archive")
    wait_until(lambda: row_ids(page) == ["run-late", "run-mid", "run-early"], message="newest")
    assert page.locator("#archive-count").inner_text() == "1–3 of 3 runs"
    page.locator("th[data-column=created] a").click()
    wait_until(lambda: row_ids(page) == ["run-early", "run-mid", "run-late"], message="oldest")
    assert page.locator("th[data-column=created]").get_attribute("aria-sort") == "ascending"


def test_a_date_range_narrows_the_archive_and_is_kept_in_the_url(dashboard, server):
    append_events(server.log_path, [*created_at("run-march", "2026-03-06T12:00:00Z"),
                                    *created_at("run-may", "2026-05-06T12:00:00Z")])
    page = dashboard.open("#/archive")
    wait_until(lambda: len(row_ids(page)) == 2, message="both")
    page.get_by_label("Created from").fill("2026-05-01")
    page.get_by_role("button", name="Apply").click()
    wait_until(lambda: row_ids(page) == ["run-may"], message="may only")
    assert "from=2026-05-01" in page.url
    page.reload()
    wait_until(lambda: row_ids(page) == ["run-may"], message="same view after reload")


def test_a_running_row_updates_live(dashboard, server):
    append_events(server.log_path, created_at("run-going", "2026-03-06T12:00:00Z", status=None))
    page = dashboard.open("#/archive")
    row = page.locator(f"{ROW}[data-run-id=run-going]")
    row.locator(".badge[data-status=running]").wait_for()
    append_events(server.log_path, [
        ev.ItemStarted(run_id="run-going", sequence=1, prompt_text="Q", ts=TS),
        ev.ItemJudged(run_id="run-going", sequence=1, correct=True, ts=TS),
        ev.RunFinished(run_id="run-going", status="completed", ts=TS)])
    row.locator(".badge[data-status=completed]").wait_for()
    assert "1/2" in row.inner_text()


def test_the_archive_fits_a_phone(dashboard, server):
    append_events(server.log_path, created_at("run-" + "long" * 20, "2026-03-06T12:00:00Z"))
    dashboard.page.set_viewport_size({"width": 390, "height": 844})
    page = dashboard.open("#/archive")
    page.locator(ROW).first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def used(run_id: str, ts_text: str, tokens: int, latency_ms: float) -> list[ev.Event]:
    """A run with labels, feedback and one answered item that reported its usage."""
    ts = at(ts_text)
    return [ev.RunCreated(run_id=run_id, provider_name="simulated", model_name="gpt-test",
                          dataset_name="arithmetic", total=1, labels={"team": run_id}, ts=ts),
            ev.RunStarted(run_id=run_id, ts=ts),
            ev.ItemStarted(run_id=run_id, sequence=1, prompt_text="Q", ts=ts),
            ev.ItemAnswered(run_id=run_id, sequence=1, response_text="A", answer="A",
                            latency_ms=latency_ms, ts=ts,
                            usage=ev.Usage(prompt_tokens=tokens, completion_tokens=0)),
            ev.FeedbackGiven(run_id=run_id, rating="up", ts=ts)]


def test_optional_columns_show_labels_tokens_latency_and_feedback_and_stay_in_the_url(
        dashboard, server):
    append_events(server.log_path, [*used("run-big", "2026-03-06T10:00:00Z", 1500, 2500.0),
                                    *used("run-small", "2026-03-06T11:00:00Z", 20, 80.0)])
    page = dashboard.open("#/archive")
    wait_until(lambda: len(row_ids(page)) == 2, message="both runs")
    assert page.locator("th[data-column=tokens]").count() == 0
    page.get_by_text("Columns", exact=True).click()
    for name in ("Labels", "Tokens", "Mean latency", "Feedback"):
        page.locator(".columns-menu").get_by_label(name).check()
        page.locator(f"th:has-text('{name}')").wait_for()
    assert "cols=labels%2Ctokens%2Clatency%2Cfeedback" in page.url \
        or "cols=labels,tokens,latency,feedback" in page.url
    big = page.locator(f"{ROW}[data-run-id=run-big]")
    assert big.locator("[data-cell=tokens]").inner_text() == "1,500"
    assert big.locator("[data-cell=latency]").inner_text() == "2.50 s"
    assert "team=run-big" in big.locator("[data-cell=labels]").inner_text()
    assert "good" in big.locator("[data-cell=feedback]").inner_text()

    page.locator("th[data-column=tokens] a").click()
    wait_until(lambda: row_ids(page) == ["run-big", "run-small"], message="most tokens first")
    assert page.locator("th[data-column=tokens]").get_attribute("aria-sort") == "descending"
    page.reload()
    wait_until(lambda: row_ids(page) == ["run-big", "run-small"], message="same view after reload")
    assert page.locator("th[data-column=latency]").count() == 1


def test_a_running_rows_tokens_and_latency_follow_the_run(dashboard, server):
    append_events(server.log_path, created_at("run-spending", "2026-03-06T12:00:00Z",
                                              status=None))
    dashboard.install_clock()
    page = dashboard.open("#/archive?cols=tokens,latency")
    row = f"{ROW}[data-run-id=run-spending]"
    cell = page.locator(f"{row} [data-cell=tokens]")
    cell.filter(has_text="–").wait_for()
    append_events(server.log_path, [
        ev.ItemStarted(run_id="run-spending", sequence=1, prompt_text="Q", ts=TS),
        ev.ItemAnswered(run_id="run-spending", sequence=1, response_text="A", answer="A",
                        latency_ms=420.0, usage=ev.Usage(prompt_tokens=1200, completion_tokens=34),
                        ts=TS),
        ev.ItemJudged(run_id="run-spending", sequence=1, correct=True, expected="A", ts=TS)])
    # The stream moved the row on; its figures are fetched at most every FIGURES_MS: the
    # page's clock is moved on to that fetch rather than waited for.
    page.locator(f"{row} [data-cell=judged]").filter(has_text="1/2").wait_for()
    page.clock.fast_forward(FIGURES_MS)
    cell.filter(has_text="1,234").wait_for()
    latency = page.locator(f"{ROW}[data-run-id=run-spending] [data-cell=latency]")
    assert latency.inner_text() == "420 ms"
