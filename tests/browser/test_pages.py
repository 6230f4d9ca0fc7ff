"""The archive, the run page, compare, and the page's independence from the network."""

from __future__ import annotations

from events import schema as ev
from events.writer import append_events
from tests.support.events import TS, run_history

ARCHIVE_ROW = "#archive tbody tr[data-run-id]"
ROWS = f"document.querySelectorAll('{ARCHIVE_ROW}')"


def test_archive_filter_narrows_the_table_and_is_kept_in_the_url(dashboard, server):
    append_events(server.log_path, [
        *run_history("run-a"), *run_history("run-b"),
        ev.RunCreated(run_id="run-c", provider_name="openai", model_name="other-model",
                      dataset_name="arithmetic", total=2, ts=TS)])
    page = dashboard.open("#/archive")
    rows = page.locator(ARCHIVE_ROW)
    rows.first.wait_for()
    assert rows.count() == 3

    page.get_by_label("Model").fill("other-model")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_function(f"{ROWS}.length === 1")
    assert rows.first.get_attribute("data-run-id") == "run-c"
    assert "model=other-model" in page.url

    page.reload()  # the view is in the URL, so a shared link shows the same rows
    page.wait_for_function(f"{ROWS}.length === 1")
    assert page.get_by_label("Model").input_value() == "other-model"


def test_run_page_lists_items_with_their_details_and_the_log(dashboard, server):
    history = run_history("run-detail", total=4, answers=(True, False))
    append_events(server.log_path, [
        *history[:-1],
        ev.ItemStarted(run_id="run-detail", sequence=3, prompt_text="Q3?", ts=TS),
        ev.ItemFaulted(run_id="run-detail", sequence=3, error="provider timed out", ts=TS),
        ev.RunLog(run_id="run-detail", level="warning", message="rate limited, backing off", ts=TS),
        history[-1],
    ])
    page = dashboard.open("#/runs/run-detail")
    rows = page.locator("#items-table tbody tr[data-sequence]")
    rows.first.wait_for()
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.state)") == [
        "correct", "incorrect", "faulted", "pending"]
    wrong = rows.nth(1).inner_text()
    assert "Q2?" in wrong and "12.5 ms" in wrong
    assert "provider timed out" in rows.nth(2).inner_text()
    rows.nth(1).get_by_role("link").click()
    drawer = page.locator("#item-drawer")
    drawer.filter(has_text="Answer: A").wait_for()
    assert "Extracted answer: A" in drawer.inner_text()
    assert "rate limited, backing off" in page.locator(".logs").inner_text()
    assert page.get_by_role("link", name="Export CSV").get_attribute("href") == \
        "/api/runs/run-detail/export?format=csv"


def test_archive_links_to_compare_which_lists_the_disagreements(dashboard, server):
    append_events(server.log_path, [*run_history("run-x", answers=(True, True, True)),
                                    *run_history("run-y", answers=(True, False, True))])
    page = dashboard.open("#/archive")
    page.get_by_label("Select run-x to compare").check()
    page.get_by_label("Select run-y to compare").check()
    page.get_by_role("button", name="Compare selected").click()
    page.locator("#disagreements tbody tr").first.wait_for()
    assert page.locator("#compare-runs tbody tr").count() == 2
    assert page.locator("#disagreements tbody tr").count() == 1
    assert "Q2?" in page.locator("#disagreements tbody").inner_text()


def test_page_loads_with_the_network_cut_off_from_everything_but_the_server(dashboard, server):
    append_events(server.log_path, run_history("run-offline"))
    page = dashboard.open()
    dashboard.card("run-offline").wait_for()
    loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert all(name.startswith(server.url) for name in loaded)
    assert dashboard.blocked == []
    # The cut-off is real: a request to another host fails at the loopback proxy that
    # stands for the rest of the network (it never left the machine), and is noted.
    elsewhere = "https://example.com/font.woff2"
    with page.expect_event("requestfailed", lambda request: request.url == elsewhere) as refused:
        assert page.evaluate("url => fetch(url).then(() => 'reached', () => 'failed')",
                             elsewhere) == "failed"
    assert refused.value.failure == "net::ERR_PROXY_CONNECTION_FAILED"
    assert dashboard.blocked == [elsewhere]


def test_board_fits_a_phone_width_screen(dashboard, server):
    append_events(server.log_path, run_history("run-phone"))
    dashboard.page.set_viewport_size({"width": 390, "height": 844})
    page = dashboard.open()
    dashboard.card("run-phone").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_every_module_the_board_loads_was_preloaded_by_the_page(dashboard, server):
    """The page names its modules up front (no five-level import waterfall): a module
    missing from its preloads would be fetched only when its importer had arrived."""
    page = dashboard.open()
    loaded = page.evaluate("""() => performance.getEntriesByType('resource')
      .map(entry => new URL(entry.name).pathname).filter(path => path.endsWith('.js'))""")
    preloaded = page.locator("link[rel=modulepreload]").evaluate_all(
        "links => links.map(link => new URL(link.href).pathname)")
    assert len(loaded) > 30
    assert set(loaded) == {*preloaded, "/static/js/app.js"}
