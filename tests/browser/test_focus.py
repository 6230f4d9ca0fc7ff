"""Focus and what the user loaded stay put while the live stream updates the page."""

from __future__ import annotations

from datetime import UTC, datetime

from events import schema as ev
from events.writer import append_events
from tests.support.waiting import wait_until

REFRESH_MS = 1000  # web/static/js/run-view.js: how often at most the run page reloads
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


def test_the_board_holds_still_while_focus_is_on_it_and_catches_up_after(dashboard, server):
    append_events(server.log_path, [*started("run-x", 1), *started("run-y", 2),
                                    *started("run-z", 3)])
    page = dashboard.open()
    wait_until(lambda: board_order(dashboard) == ["run-z", "run-y", "run-x"], message="board")
    cancel = dashboard.card("run-x").get_by_role("button", name="Cancel")
    cancel.focus()

    append_events(server.log_path, judged("run-x", 1, 4))
    wait_until(lambda: dashboard.card_counts("run-x")["completed"] == 1, message="x progressed")
    append_events(server.log_path, [ev.RunFinished(run_id="run-z", status="completed", ts=at(5)),
                                    *started("run-new", 7)])
    page.locator(".new-runs").filter(has_text="1 new run").wait_for()
    dashboard.card("run-z").locator(".badge[data-status=completed]").wait_for()
    assert board_order(dashboard) == ["run-z", "run-y", "run-x"], "cards moved under the focus"
    assert page.evaluate(FOCUSED_RUN) == "run-x"
    assert page.evaluate("document.activeElement.textContent") == "Cancel"

    page.get_by_role("link", name="Archive").focus()  # the user moves on: the board catches up
    wait_until(lambda: board_order(dashboard) == ["run-new", "run-y", "run-x", "run-z"],
               message="caught up")
    assert page.locator("#board-finished .card").evaluate_all(
        "cs => cs.map(c => c.dataset.runId)") == ["run-z"]
    assert page.locator(".new-runs").is_hidden()


def run_page_counts(page) -> dict[str, int]:
    return page.locator(".run-header").evaluate(
        "head => Object.fromEntries([...head.querySelectorAll('[data-count]')]"
        ".map(n => [n.dataset.count, Number(n.textContent)]))")


def judged_on_the_run_page(page, sequence: int, *, completed: int) -> None:
    """Item ``sequence`` is counted in the header (the live stream's part) and shown in the
    table, which the page reloads at most every REFRESH_MS: its clock is moved on to the
    reload rather than waited for (``Dashboard.install_clock`` first)."""
    wait_until(lambda: run_page_counts(page)["completed"] == completed,
               message=f"item {sequence} judged")
    page.clock.fast_forward(REFRESH_MS)
    page.locator(f"#items-table tr[data-sequence='{sequence}'][data-state=correct]").wait_for()


def test_export_and_a_table_link_keep_focus_on_the_run_page_while_the_run_progresses(
        dashboard, server):
    append_events(server.log_path, [*started("run-busy", 1), *judged("run-busy", 1, 2)])
    dashboard.install_clock()
    page = dashboard.open("#/runs/run-busy")
    page.locator("#items-table tr[data-sequence='1'][data-state=correct]").wait_for()
    page.get_by_role("link", name="Export CSV").focus()
    append_events(server.log_path, judged("run-busy", 2, 4))
    judged_on_the_run_page(page, 2, completed=2)
    assert page.evaluate("document.activeElement.textContent") == "Export CSV"

    page.get_by_role("link", name="Item 1", exact=True).focus()
    for sequence in (3, 4):
        append_events(server.log_path, judged("run-busy", sequence, sequence + 2))
        judged_on_the_run_page(page, sequence, completed=sequence)
    page.locator("#main .logs .log-line").first.wait_for()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Item 1"
