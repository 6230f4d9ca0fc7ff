"""The run page: the items table, the drawer with the judge's verdict, permalinks, the
summary, streaming items on top, canceling, unknown ids."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from events import schema as ev
from events.writer import append_events
from tests.browser.conftest import dashboard_on
from tests.browser.test_focus import at, judged, judged_on_the_run_page, started
from tests.support.waiting import wait_until

ROW = "#items-table tbody tr[data-sequence]"


def table_sequences(page) -> list[int]:
    return page.locator(ROW).evaluate_all("rs => rs.map(r => Number(r.dataset.sequence))")


def graded_run(run_id: str, total: int = 6) -> list[ev.Event]:
    """Items judged by a named judge with a score and a rationale; one faulted."""
    events = started(run_id, 1, total=total)
    for sequence in range(1, total):
        events += [
            ev.ItemStarted(run_id=run_id, sequence=sequence, prompt_text=f"Question {sequence}?",
                           choices=("red", "green", "blue"), ts=at(2)),
            ev.ItemAnswered(run_id=run_id, sequence=sequence,
                            response_text=f"I pick B ({sequence})", answer="B",
                            latency_ms=100.0 * sequence,
                            usage=ev.Usage(prompt_tokens=10, completion_tokens=sequence), ts=at(3)),
            ev.ItemJudged(run_id=run_id, sequence=sequence, correct=sequence % 2 == 1,
                          expected="B" if sequence % 2 else "C", score=sequence / 10,
                          judge="rubric-judge", rationale=f"Rationale for item {sequence}.",
                          ts=at(3 + sequence)),
        ]
    events += [ev.ItemStarted(run_id=run_id, sequence=total, prompt_text="Last?", ts=at(9)),
               ev.ItemFaulted(run_id=run_id, sequence=total, error="429 Too Many Requests",
                              ts=at(9))]
    return events


@pytest.mark.parametrize("width", [1280, 390])
def test_the_drawer_shows_the_judge_its_score_and_rationale_and_the_pick_and_key(
        dashboard, server, width):
    append_events(server.log_path, graded_run("run-graded"))
    dashboard.page.set_viewport_size({"width": width, "height": 900})
    page = dashboard.open("#/runs/run-graded")
    page.locator(ROW).first.wait_for()
    page.locator(f"{ROW}[data-sequence='2'] a").click()
    drawer = page.locator("#item-drawer")
    drawer.locator("#drawer-rationale").wait_for()
    assert "Rationale for item 2." in drawer.inner_text()
    assert "rubric-judge" in drawer.locator("#drawer-judge").inner_text()
    assert "0.2" in drawer.locator("#drawer-judge").inner_text()
    picked = drawer.locator(".choices li[data-picked=true]")
    key = drawer.locator(".choices li.expected")
    assert picked.inner_text().startswith("green") and key.inner_text().startswith("blue")
    assert page.url.endswith("#/runs/run-graded/items/2")
    assert page.evaluate("document.activeElement.id") == "drawer-title"
    box = drawer.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1

    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")
    assert page.url.endswith("#/runs/run-graded")


def test_an_item_permalink_opens_the_item_with_the_runs_tool_calls(dashboard, server):
    append_events(server.log_path, [
        *graded_run("run-link"),
        ev.RunLog(run_id="run-link", level="info", message="mcp files.read → ok in 12 ms",
                  ts=at(9))])
    page = dashboard.open("#/runs/run-link/items/6")
    page.locator("#drawer-error").filter(has_text="429 Too Many Requests").wait_for()
    assert "Item #6" in page.locator("#drawer-title").inner_text()
    assert "mcp files.read → ok in 12 ms" in page.locator("#drawer-tools").inner_text()


def test_the_table_sorts_filters_and_searches_prompt_and_response(dashboard, server):
    append_events(server.log_path, graded_run("run-table"))
    page = dashboard.open("#/runs/run-table")
    page.locator(ROW).first.wait_for()
    assert table_sequences(page) == [1, 2, 3, 4, 5, 6]

    page.locator("th[data-column=latency] button").click()
    page.locator("th[data-column=latency] button").click()
    wait_until(lambda: table_sequences(page) == [5, 4, 3, 2, 1, 6], message="slowest first")
    assert page.locator("th[data-column=latency]").get_attribute("aria-sort") == "descending"

    page.get_by_label("State").select_option("incorrect")
    wait_until(lambda: table_sequences(page) == [4, 2], message="incorrect only")
    page.get_by_label("State").select_option("")
    page.get_by_label("Search").fill("pick b (3)")  # words of a response, in another case
    wait_until(lambda: table_sequences(page) == [3], message="found by its response")
    page.get_by_label("Search").fill("question 5")
    wait_until(lambda: table_sequences(page) == [5], message="found by its prompt")
    assert "of 1 matching (6 items)" in page.locator("#items-status").inner_text()


def test_a_large_run_is_paged_not_scrolled(dashboard, server):
    events = started("run-large", 1, total=1000)
    for sequence in range(1, 121):
        events += judged("run-large", sequence, 2)
    append_events(server.log_path, events)
    page = dashboard.open("#/runs/run-large")
    page.locator(ROW).first.wait_for()
    assert page.locator(ROW).count() == 50
    assert "1–50 of 1,000" in page.locator("#items-status").inner_text()
    page.get_by_role("button", name="Next →").click()
    wait_until(lambda: table_sequences(page)[0] == 51, message="second page")
    assert page.evaluate("document.documentElement.scrollHeight") < 20_000


def test_the_summary_shows_config_labels_tokens_latency_accuracy_and_grouped_faults(
        dashboard, server):
    events = [ev.RunCreated(run_id="run-sum", provider_name="simulated", model_name="m",
                            dataset_name="arithmetic", total=40, ts=at(1),
                            config={"seed": 7, "accuracy": 0.5}, labels={"team": "evals"}),
              ev.RunStarted(run_id="run-sum", ts=at(1))]
    for sequence in range(1, 11):
        events += judged("run-sum", sequence, 2)
    for sequence in range(11, 41):
        events += [ev.ItemStarted(run_id="run-sum", sequence=sequence, prompt_text="Q", ts=at(3)),
                   ev.ItemFaulted(run_id="run-sum", sequence=sequence,
                                  error="429 Too Many Requests", ts=at(4))]
    append_events(server.log_path, events)
    page = dashboard.open("#/runs/run-sum")
    summary = page.locator("#run-summary")
    summary.locator("#fault-groups").wait_for()
    assert "seed=7" in summary.locator("#summary-config").inner_text()
    assert "team=evals" in summary.locator("#summary-labels").inner_text()
    assert summary.locator("#fault-groups li").count() == 1
    assert "30 × 429 Too Many Requests" in summary.locator("#fault-groups").inner_text()
    accuracy = summary.locator("#summary-accuracy").inner_text()
    assert accuracy.startswith("100.0% (95% CI 72.2–100.0%, n = 10)"), accuracy
    summary.locator("#chart-accuracy canvas").wait_for(state="attached")


def test_a_running_run_shows_its_streaming_items_first(dashboard, server):
    run = "run-live"
    append_events(server.log_path, [
        *started(run, 1, total=6), *judged(run, 1, 2),
        ev.ItemStarted(run_id=run, sequence=5, prompt_text="first line\nsecond line", ts=at(6)),
        ev.ItemDelta(run_id=run, sequence=5, text="thinking it over", ts=at(6))])
    dashboard.install_clock()
    page = dashboard.open(f"#/runs/{run}")
    streaming = page.locator("#running-now .item[data-sequence='5']")
    streaming.locator(".streaming").filter(has_text="thinking it over").wait_for()
    assert streaming.locator(".prompt").inner_text() == "first line\nsecond line"
    now_box = page.locator("#running-now").bounding_box()
    table_box = page.locator("#items-table").bounding_box()
    assert now_box["y"] < table_box["y"] and now_box["y"] < 900, "running items are above the fold"

    append_events(server.log_path, [ev.ItemDelta(run_id=run, sequence=5, text=", then more",
                                                 ts=at(7))])
    streaming.locator(".streaming").filter(has_text="then more").wait_for()
    append_events(server.log_path, [
        ev.ItemAnswered(run_id=run, sequence=5, response_text="A", answer="A", ts=at(8)),
        ev.ItemJudged(run_id=run, sequence=5, correct=True, expected="A", ts=at(8))])
    streaming.wait_for(state="detached")
    judged_on_the_run_page(page, 5, completed=2)


def test_a_running_run_asked_to_stop_says_canceling(dashboard, server):
    append_events(server.log_path, started("run-stopping", 1))
    page = dashboard.open("#/runs/run-stopping")
    badge = page.locator(".run-head .badge")
    badge.filter(has_text="running").wait_for()
    append_events(server.log_path, [ev.RunCancelRequested(run_id="run-stopping", ts=at(2))])
    badge.filter(has_text="canceling").wait_for()


def test_an_unknown_run_says_so_instead_of_loading_forever(dashboard, server):
    page = dashboard.open("#/runs/no-such-run")
    page.locator("#items-table .error").filter(has_text="No such run").wait_for()
    assert "Loading" not in page.locator("#main").inner_text()
    assert page.locator(".logs").is_hidden()


def test_a_long_run_id_does_not_make_the_run_page_scroll_sideways(dashboard, server):
    run = "run-" + "x" * 120
    append_events(server.log_path, [*started(run, 1, total=3), *judged(run, 1, 2)])
    dashboard.page.set_viewport_size({"width": 390, "height": 844})
    page = dashboard.open(f"#/runs/{run}")
    page.locator(ROW).first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_run_tab_is_titled_by_its_run(dashboard, server):
    append_events(server.log_path, started("run-titled", 1))
    page = dashboard.open("#/runs/run-titled")
    wait_until(lambda: "run-titled" in page.title(), message="title")
    assert page.title().startswith("run-titled · arithmetic · simulated")



def priced_server(server_factory, settings, prices: str, events: list):
    """A server whose data directory holds ``prices`` as its ``prices.json``, with
    ``events`` in its log."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "prices.json").write_text(prices)
    server = server_factory()
    append_events(server.log_path, events)
    return server


def test_the_summary_shows_the_cost_only_when_the_models_price_is_configured(
        browser, server_factory, settings):
    server = priced_server(
        server_factory, settings,
        '{"models": {"simulated/run-priced": {"inputPerMillion": 2000, "outputPerMillion": 8000}}}',
        [*graded_run("run-priced"), *graded_run("run-unpriced")])
    with dashboard_on(browser, server) as board:
        page = board.open("#/runs/run-priced")
        cost = page.locator("#summary-cost")
        cost.wait_for()
        # 50 prompt tokens at 2,000 per million and 15 completion tokens at 8,000.
        assert "$0.22" in cost.inner_text() and "$0.10 in / $0.12 out" in cost.inner_text()
        page.goto(f"{server.url}/#/runs/run-unpriced")
        page.locator("#summary-tokens").filter(has_text="50 / 15").wait_for()
        assert page.locator("#summary-cost").count() == 0
        assert not re.search(r"\$[0-9]", page.locator("#run-summary").inner_text())


def test_tokens_and_cost_say_when_some_answers_reported_no_usage(
        browser, server_factory, settings):
    server = priced_server(
        server_factory, settings,
        '{"models": {"simulated/run-partial": {"inputPerMillion": 1, "outputPerMillion": 1}}}',
        [*graded_run("run-partial"),
         ev.ItemStarted(run_id="run-partial", sequence=6, prompt_text="Again?", ts=at(10)),
         ev.ItemAnswered(run_id="run-partial", sequence=6, response_text="B", ts=at(10))])
    with dashboard_on(browser, server) as board:
        page = board.open("#/runs/run-partial")
        for fact in ("#summary-tokens", "#summary-cost"):
            page.locator(fact).filter(has_text="usage from 5 of 6 answered items").wait_for()


def test_a_bad_price_list_is_named_where_the_cost_would_be(browser, server_factory, settings):
    server = priced_server(server_factory, settings, '{"models": {"no-slash": {}}}',
                           graded_run("run-mispriced"))
    with dashboard_on(browser, server) as board:
        page = board.open("#/runs/run-mispriced")
        page.locator("#summary-cost").filter(has_text="prices.json").wait_for()
        assert not re.search(r"\$[0-9]", page.locator("#run-summary").inner_text())


@pytest.mark.parametrize("width", [1280, 390])
def test_column_filters_narrow_the_table_and_live_in_the_url(dashboard, server, width):
    append_events(server.log_path, graded_run("run-cols"))
    dashboard.page.set_viewport_size({"width": width, "height": 900})
    page = dashboard.open("#/runs/run-cols")
    page.locator(ROW).first.wait_for()
    page.get_by_text("Column filters").click()
    page.get_by_label("Expected is").fill("c")  # another letter case than the key
    page.get_by_label("Expected is").press("Enter")
    wait_until(lambda: table_sequences(page) == [2, 4], message="expected C only")
    page.get_by_label("Latency from (ms)").fill("300")
    page.get_by_label("Latency from (ms)").press("Enter")
    wait_until(lambda: table_sequences(page) == [4], message="and slow")
    assert "expected=c" in page.url and "latencyMin=300" in page.url
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.locator(f"{ROW}[data-sequence='4'] a").click()
    page.locator("#drawer-rationale").wait_for()
    page.keyboard.press("Escape")
    page.locator("#item-drawer").wait_for(state="hidden")
    assert "latencyMin=300" in page.url, "closing the drawer keeps the filters"

    page.reload()
    wait_until(lambda: table_sequences(page) == [4], message="the URL restores the filters")
    assert page.get_by_label("Latency from (ms)").input_value() == "300"
    page.get_by_role("button", name="Clear", exact=True).click()
    wait_until(lambda: len(table_sequences(page)) == 6, message="cleared")


def test_score_range_and_retried_items_filter_the_table(dashboard, server):
    append_events(server.log_path, [
        *graded_run("run-range"),
        ev.ItemStarted(run_id="run-range", sequence=6, prompt_text="Last?", ts=at(10))])
    page = dashboard.open("#/runs/run-range?scoreMin=0.2&scoreMax=0.3")
    wait_until(lambda: table_sequences(page) == [2, 3], message="scores 0.2 to 0.3")
    page.goto(f"{server.url}/#/runs/run-range")
    wait_until(lambda: len(table_sequences(page)) == 6, message="unfiltered")
    assert page.locator("details.column-filters").get_attribute("open") is not None, \
        "filters that were on stay in view"
    page.get_by_label("Only retried items").check()
    wait_until(lambda: table_sequences(page) == [6], message="the retried item")


def test_a_refused_column_filter_is_marked_on_its_field(dashboard, server):
    append_events(server.log_path, graded_run("run-refused"))
    page = dashboard.open("#/runs/run-refused?tokensMin=many")  # a URL edited by hand
    page.locator("#column-filters-error").filter(has_text="tokensMin").wait_for()
    assert page.get_by_label("Tokens from").get_attribute("aria-invalid") == "true"
    page.get_by_label("Tokens from").fill("1")
    page.get_by_label("Tokens to").fill("15")
    page.get_by_label("Tokens to").press("Enter")
    wait_until(lambda: len(table_sequences(page)) == 5, message="a good range")
    assert page.get_by_label("Tokens from").get_attribute("aria-invalid") is None


def test_the_csv_export_carries_the_judges_fields_and_the_run(dashboard, server):
    append_events(server.log_path, graded_run("run-export"))
    page = dashboard.open("#/runs/run-export")
    page.locator(ROW).first.wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    second = next(row for row in rows if row["sequence"] == "2")
    assert (second["judge"], second["score"], second["rationale"]) == \
        ("rubric-judge", "0.2", "Rationale for item 2.")
    assert any(value == "run-export" for value in second.values())


def test_a_fault_link_opens_the_item_and_closing_it_keeps_the_tables_filters(dashboard, server):
    append_events(server.log_path, graded_run("run-fault-link"))
    page = dashboard.open("#/runs/run-fault-link")
    page.locator(ROW).first.wait_for()
    page.get_by_label("State").select_option("faulted")
    wait_until(lambda: table_sequences(page) == [6], message="faulted only")
    page.locator("#fault-groups a").filter(has_text="#6").click()
    page.locator("#drawer-error").wait_for()
    page.keyboard.press("Escape")
    page.locator("#item-drawer").wait_for(state="hidden")
    assert "state=faulted" in page.url
    assert table_sequences(page) == [6]
