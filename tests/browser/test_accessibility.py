"""Accessibility: axe-core (vendored) on every page in both colour schemes, contrast of
the things axe does not measure, focus on route changes, alerts, the outage banner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from events import schema as ev
from events.writer import append_events
from tests.browser.conftest import Dashboard, dashboard_on
from tests.browser.test_look import CONTRAST
from tests.browser.test_run_page import graded_run
from tests.support.events import TS, run_history
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until

FOCUSED = "document.activeElement.tagName + ':' + document.activeElement.textContent"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

PAGES = {
    "board": ("#/", ".card"),
    "archive": ("#/archive", "#archive tbody tr[data-run-id]"),
    "archive-columns": ("#/archive?cols=labels,tokens,latency,feedback&sort=tokens",
                        "#archive td[data-cell=tokens]"),
    "run": ("#/runs/run-graded", "#items-table tbody tr[data-sequence]"),
    "run-filtered": ("#/runs/run-graded?expected=b&latencyMin=100&tokensMin=many",
                     "#column-filters-error:not([hidden])"),
    "drawer": ("#/runs/run-graded/items/2", "#drawer-rationale"),
    "compare": ("#/compare?ids=run-a,run-b", ".pairing"),
    "picker": ("#/compare", "#compare-picker tbody tr[data-run-id]"),
    "new": ("#/new", "select[name=datasetName] option[value]:not([value=''])"),
    "browser-harness": ("#/browser-harness", "h1"),
}


def serious_violations(page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations']});
      return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')
          + ' ' + (n.any[0]?.message ?? '')).join(' | '));
    }""")
    return found


def populate(server: RunningServer) -> RunningServer:
    append_events(server.log_path, [
        *graded_run("run-graded"),
        *run_history("run-a", answers=(True, True, False)),
        *run_history("run-b", answers=(True, False, True)),
        *run_history("run-live", finish=None),
        ev.RunLog(run_id="run-graded", level="warning", message="rate limited", ts=TS),
        ev.RunLog(run_id="run-graded", level="error", message="gave up", ts=TS)])
    return server


@pytest.fixture(scope="module")
def populated(module_server: RunningServer) -> RunningServer:
    """The log every test here looks at, on one server: they only read (the runs in it
    were written by no harness server, so no executor takes them up)."""
    return populate(module_server)


@pytest.fixture
def dashboard(browser, populated) -> Iterator[Dashboard]:
    with dashboard_on(browser, populated) as board:
        yield board


# Every finite animation and transition (e.g. a progress bar's width) has ended: axe
# reads computed colours. A cancelled one rejects ``finished``; it has ended too.
ANIMATIONS_ENDED = """() => Promise.all(document.getAnimations()
  .filter(a => a.effect?.getComputedTiming().iterations !== Infinity)
  .map(a => a.finished.catch(() => null)))"""


# The other scheme is switched to in place, after a frame for ``change`` listeners (the
# charts redraw on it); the CSS follows the scheme by itself (``light-dark()``).
SCHEME_SWITCHED = """async () => {
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  return getComputedStyle(document.body).backgroundColor;
}"""
# One load per page and width; each width loads in one scheme and switches to the other,
# so both schemes are checked as loaded and as switched to.
SCHEMES_AT_WIDTH = {1280: ("light", "dark"), 390: ("dark", "light")}


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_axe_violations(dashboard, name):
    path, ready = PAGES[name]
    page = dashboard.page
    found, backgrounds = {}, {}
    for width, themes in SCHEMES_AT_WIDTH.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=themes[0])
        if width == 1280:
            dashboard.open(path)
        else:  # the same address again: only a reload loads it anew
            page.reload()
            dashboard.wait_live()
        page.locator(ready).first.wait_for(state="attached")
        for theme in themes:
            page.emulate_media(color_scheme=theme)
            backgrounds[theme, width] = page.evaluate(SCHEME_SWITCHED)
            page.evaluate(ANIMATIONS_ENDED)
            found[f"{name} {theme} {width}px"] = serious_violations(page)
    # Each switch changed the page's colours: the check ran on the scheme it names.
    for width in SCHEMES_AT_WIDTH:
        assert backgrounds["light", width] != backgrounds["dark", width], width
    assert {where: violations for where, violations in found.items() if violations} == {}


def test_controls_warnings_expected_choices_and_cancel_meet_aa_contrast(dashboard, populated):
    page = dashboard.page

    def in_both_schemes(selector: str, background: str, ratio: float, *,
                        prepare: str | None = None) -> None:
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            page.evaluate(SCHEME_SWITCHED)
            if prepare:
                page.evaluate(prepare)
            assert page.evaluate(CONTRAST, [selector, background]) >= ratio, (selector, theme)

    dashboard.open("#/runs/run-graded/items/2")
    page.locator("#drawer-rationale").wait_for()
    in_both_schemes(".choices li.expected", "#item-drawer", 4.5)
    page.keyboard.press("Escape")
    page.locator(".log-line[data-level=warning]").wait_for()
    in_both_schemes(".log-line[data-level=warning]", "body", 4.5)
    # A text probe in the input's border colour of the scheme at hand.
    in_both_schemes("#probe", "body", 3, prepare="""() => {
      const input = document.querySelector('.items-table input');
      const probe = document.getElementById('probe') ?? document.createElement('span');
      probe.style.color = getComputedStyle(input).borderTopColor;
      probe.id = 'probe';
      input.closest('section').append(probe);
    }""")
    page.goto(f"{populated.url}/#/")
    cancel = ".card[data-run-id=run-live] button.danger"
    page.locator(cancel).wait_for()
    in_both_schemes(cancel, cancel, 4.5)
    page.goto(f"{populated.url}/#/compare?ids=run-a,run-b")
    page.locator("#disagreements td.answer[data-correct=true]").first.wait_for()
    in_both_schemes("#disagreements td.answer[data-correct=true]", ".table-wrap", 4.5)


def test_focus_moves_to_the_page_heading_on_every_route_change(dashboard, populated):
    page = dashboard.open()
    page.locator(".card").first.wait_for()
    for name, heading in (("Archive", "Archive"), ("Compare", "Compare"), ("New run", "New run"),
                          ("Board", "Runs")):
        page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        wait_until(lambda h=heading: page.evaluate(FOCUSED) == f"H1:{h}",
                   message=f"focus on the {heading} heading")


def test_an_error_toast_is_an_alert_that_can_be_dismissed(dashboard, populated):
    page = dashboard.open("#/new")
    page.evaluate("import('/static/js/notify.js').then(m => m.notify('it broke', 'error'))")
    toast = page.get_by_role("alert").filter(has_text="it broke")
    toast.wait_for()
    toast.get_by_role("button", name="Dismiss").click()
    toast.wait_for(state="detached")


def test_the_api_docs_link_to_the_dashboard_and_back(dashboard, populated):
    page = dashboard.open()
    page.get_by_role("link", name="API docs").click()
    page.wait_for_url(f"{populated.url}/docs")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(f"{populated.url}/")
    dashboard.wait_live()
