"""What a reader sees: contrast of small text, phone widths, short durations."""

from __future__ import annotations

import pytest

from events.writer import append_events
from tests.support.events import run_history

CONTRAST = """([selector, backgroundSelector]) => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const node = document.querySelector(selector);
  const fg = luminance(rgb(getComputedStyle(node).color));
  const background = document.querySelector(backgroundSelector);
  const bg = luminance(rgb(getComputedStyle(background).backgroundColor));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_small_badges_and_primary_buttons_are_readable_in_both_themes(dashboard, server, theme):
    append_events(server.log_path, [*run_history("run-done"),
                                    *run_history("run-live", finish=None)])
    page = dashboard.open("#/new")
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    assert page.evaluate(CONTRAST, ["#new-run button.primary", "#new-run button.primary"]) >= 4.5
    page.goto(f"{server.url}/#/")
    page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
    for status in ("running", "completed"):
        badge = f".card .badge[data-status={status}]"
        page.locator(badge).wait_for()
        assert page.evaluate(CONTRAST, [badge, ".card"]) >= 4.5, status


def test_every_section_and_the_accuracy_column_fit_a_phone(dashboard, server):
    append_events(server.log_path, run_history("run-phone"))
    dashboard.page.set_viewport_size({"width": 390, "height": 844})
    page = dashboard.open("#/archive")
    page.locator("#archive tbody tr[data-run-id]").wait_for()
    width = page.evaluate("window.innerWidth")
    for name in ("Board", "Archive", "Compare", "New run", "Browser Harness"):
        box = page.get_by_role("navigation").get_by_role("link", name=name).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, name
    accuracy = page.locator("#archive thead th", has_text="Accuracy").bounding_box()
    assert accuracy["x"] + accuracy["width"] <= width


def test_sub_second_runs_show_milliseconds_and_a_rate(dashboard, server):
    page = dashboard.open()
    shown = page.evaluate("""async () => {
      const f = await import('/static/js/format.js');
      const progress = {total: 10, pending: 0};
      return [f.duration(450), f.duration(0), f.rate(f.ratePerMinute(progress, 500))];
    }""")
    assert shown == ["450 ms", "0 ms", "1200/min"]
