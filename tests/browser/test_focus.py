"""Focus and what the user loaded stay put while the live stream updates the page."""

from __future__ import annotations

from datetime import UTC, datetime

from events import schema as ev
from events.writer import append_events
from tests.support.waiting import wait_until

FOCUSED_RUN = "document.activeElement?.closest('[data-run-id]')?.dataset.runId"


def at(second: int) -> datetime:
    return datetime(2026, 3, 6, 19, 43, second, 123_000, tzinfo=UTC)


def started(run_id: str, second: int, *, total: int = 20) -> list[ev.Event]:
    return [ev.RunCreated(run_id=run_id, provider_name="simulated", model_name=run_id,
                          dataset_name="arithmetic", total=total, ts=at(second)),
            ev.RunStarted(run_id=run_id, ts=at(second))]


def judged(run_id: str, sequence: int, second: int) -> list[ev.Event]:
    return [ev.ItemStarted(run_id=run_id, sequence=sequence, prompt_text=f"Q{sequence}?",
                           ts=at(second)),
            ev.ItemAnswered(run_id=run_id, sequence=sequence, response_text="A", answer="A",
                            ts=at(second)),
            ev.ItemJudged(run_id=run_id, sequence=sequence, correct=True, expected="A",
                          ts=at(second))]


def board_order(dashboard) -> list[str]:
    return dashboard.page.locator(".card").evaluate_all("cs => cs.map(c => c.dataset.runId)")


def test_a_focused_cancel_button_keeps_focus_while_other_runs_start_finish_and_move(
        dashboard, server):
    append_events(server.log_path, [*started("run-x", 1), *started("run-y", 2),
                                    *started("run-z", 3)])
    page = dashboard.open()
    wait_until(lambda: board_order(dashboard) == ["run-z", "run-y", "run-x"], message="board")
    cancel = dashboard.card("run-x").get_by_role("button", name="Cancel")
    cancel.focus()

    append_events(server.log_path, judged("run-x", 1, 4))
    wait_until(lambda: dashboard.card_counts("run-x")["completed"] == 1, message="x progressed")
    append_events(server.log_path, [ev.RunFinished(run_id="run-z", status="completed", ts=at(5))])
    wait_until(lambda: board_order(dashboard) == ["run-y", "run-x", "run-z"], message="z done")
    append_events(server.log_path, [*judged("run-x", 2, 6), *started("run-new", 7)])
    wait_until(lambda: board_order(dashboard)[0] == "run-new", message="a new run on top")
    append_events(server.log_path, [ev.RunFinished(run_id="run-y", status="failed", ts=at(8))])
    wait_until(lambda: board_order(dashboard) == ["run-new", "run-x", "run-y", "run-z"],
               message="y done")
    wait_until(lambda: dashboard.card_counts("run-x")["completed"] == 2, message="x progressed")

    assert page.evaluate(FOCUSED_RUN) == "run-x"
    assert page.evaluate("document.activeElement.textContent") == "Cancel"


def run_page_counts(page) -> dict[str, int]:
    return page.locator(".run-header").evaluate(
        "head => Object.fromEntries([...head.querySelectorAll('[data-count]')]"
        ".map(n => [n.dataset.count, Number(n.textContent)]))")


def test_export_keeps_focus_on_the_run_page_while_the_run_progresses(dashboard, server):
    append_events(server.log_path, [*started("run-busy", 1), *judged("run-busy", 1, 2)])
    page = dashboard.open("#/runs/run-busy")
    page.locator(".item[data-sequence='1']").wait_for(state="attached")
    page.get_by_role("link", name="Export CSV").focus()
    item = page.locator(".item[data-sequence='1']").element_handle()

    for sequence in (2, 3, 4):
        append_events(server.log_path, judged("run-busy", sequence, sequence + 2))
        wait_until(lambda s=sequence: run_page_counts(page)["completed"] == s,
                   message=f"item {sequence} judged")
    page.locator("details[data-group=correct] summary .badge").filter(has_text="4").wait_for()
    page.locator("#main .logs .log-line").first.wait_for()

    assert page.evaluate("document.activeElement.textContent") == "Export CSV"
    assert item.evaluate("node => node.isConnected"), "item 1 was rebuilt"


def test_items_paged_in_with_load_more_stay_while_the_run_goes_on(dashboard, server):
    events = started("run-long", 1, total=300)
    for sequence in range(1, 151):
        events += judged("run-long", sequence, 2)
    append_events(server.log_path, events)
    page = dashboard.open("#/runs/run-long")
    correct = page.locator("details[data-group=correct]")
    correct.locator("summary").click()
    shown = correct.locator(".item")
    wait_until(lambda: shown.count() == 100, message="first page")
    correct.get_by_role("button", name="Load more").click()
    wait_until(lambda: shown.count() == 150, message="second page")

    append_events(server.log_path, [*judged("run-long", 151, 3), *judged("run-long", 152, 4)])
    correct.locator("summary .badge").filter(has_text="152").wait_for()
    wait_until(lambda: shown.count() == 152, message="new items added in place")
    assert shown.first.get_attribute("data-sequence") == "1"
    assert shown.last.get_attribute("data-sequence") == "152"
