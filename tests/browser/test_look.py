"""What a reader sees: contrast of small text, phone widths, short durations."""

from __future__ import annotations

import pytest

from events.writer import append_events
from tests.browser.test_run_page import graded_run
from tests.support.events import run_history
from tests.support.waiting import wait_until

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


# The strongest contrast between the y axis's ink (tick values, label) on a chart's
# canvas and the background the chart sits on: the axis text must read at AA.
AXIS_INK_CONTRAST = """(id) => {
  const canvas = document.querySelector(`#${id} canvas`);
  const ratio = canvas.width / canvas.clientWidth;
  const strip = canvas.getContext('2d')
    .getImageData(0, 0, Math.round(34 * ratio), canvas.height).data;
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (r, g, b) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  let node = canvas;
  const transparent = (n) => getComputedStyle(n).backgroundColor.match(/[\\d.]+/g)?.[3] === '0';
  while (transparent(node)) node = node.parentElement;
  const [r, g, b] = getComputedStyle(node).backgroundColor.match(/[\\d.]+/g).map(Number);
  const bg = luminance(r, g, b);
  let best = 1;
  for (let i = 0; i < strip.length; i += 4) {
    if (strip[i + 3] < 250) continue;
    const fg = luminance(strip[i], strip[i + 1], strip[i + 2]);
    best = Math.max(best, (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05));
  }
  return best;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chart_axes_are_readable_in_both_schemes_and_follow_a_switch(dashboard, server, theme):
    append_events(server.log_path, graded_run("run-charts"))
    dashboard.page.emulate_media(color_scheme=theme)
    page = dashboard.open("#/runs/run-charts")
    page.locator("#chart-latency canvas").wait_for()
    # The chart draws in an animation frame: wait for ink that reads at AA.
    wait_until(lambda: page.evaluate(AXIS_INK_CONTRAST, "chart-latency") >= 4.5,
               message=f"readable axes in {theme}")
    other = "dark" if theme == "light" else "light"
    toggle = page.locator("#theme-toggle")
    while toggle.inner_text() != other:
        toggle.click()
    wait_until(lambda: page.evaluate(AXIS_INK_CONTRAST, "chart-latency") >= 4.5,
               timeout_s=3, message=f"axes redrawn readable in {other}")
