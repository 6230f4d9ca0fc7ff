"""Streamed text reaches the page as text deltas (``run_item_delta``) and the page shows
exactly what the server holds: past the preview's 280 characters, with emoji (code
points, not UTF-16 units), for an item the board keeps and for one only the run page
holds, and on the board's card; the page's rule is the server's."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest

from events import schema as ev
from events.writer import append_events
from harness.settings import Settings
from projections.state import PREVIEW_CHARS
from projections.text_deltas import TextBases
from tests.browser.test_focus import at, judged, started
from tests.support.servers import RunningServer
from tests.unit.test_text_deltas import streamed

RUN = "run-deltas"
# Counts the stream's events by name before the page's scripts run.
COUNT_EVENTS = """
window.__streamEvents = {};
const listen = EventSource.prototype.addEventListener;
EventSource.prototype.addEventListener = function (name, handler, options) {
  const counted = (event) => {
    window.__streamEvents[name] = (window.__streamEvents[name] ?? 0) + 1;
    return handler(event);
  };
  return listen.call(this, name, counted, options);
};
"""
PIECES = ["The answer ", "is B 🌍, ", "because ∑x² ", "grows; ", "ü" * 40, " — ", "ok. "]


@pytest.fixture
def server(server_factory: Callable[..., RunningServer], settings: Settings) -> RunningServer:
    """Each piece is waited for on the page before the next is written: the stream's
    window for a running item (a quarter of a second by default) would be most of the
    wait, and it is not what these tests are about (``tests/server/test_coalescing.py``)."""
    return server_factory(replace(settings, sse_item_window_s=0.01))


def shows(page, selector: str, text: str) -> None:
    """Wait until the node at ``selector`` holds exactly ``text``."""
    page.wait_for_function("([selector, text]) => document.querySelector(selector)"
                           "?.textContent === text", arg=[selector, text], timeout=10_000)


def test_streamed_text_comes_as_deltas_and_the_page_shows_exactly_the_servers_text(
        dashboard, server):
    # Item 2 streams but has left the board's few items (current 9, recent 8..4): only the
    # run page holds it. Item 9 is the card's current item.
    events = [*started(RUN, 1, total=10),
              ev.ItemStarted(run_id=RUN, sequence=2, prompt_text="Two?", ts=at(2)),
              ev.ItemDelta(run_id=RUN, sequence=2, text="Begin: ", ts=at(2))]
    for sequence in range(3, 9):
        events += judged(RUN, sequence, 3)
    events += [ev.ItemStarted(run_id=RUN, sequence=9, prompt_text="Nine?", ts=at(4)),
               ev.ItemDelta(run_id=RUN, sequence=9, text="Start. ", ts=at(4))]
    append_events(server.log_path, events)
    texts = {2: "Begin: ", 9: "Start. "}
    dashboard.add_init_script(COUNT_EVENTS)
    page = dashboard.open(f"#/runs/{RUN}")
    for sequence, text in texts.items():
        shows(page, f"#running-now .item[data-sequence='{sequence}'] .streaming", text)

    for round_ in range(8):
        for number, piece in enumerate(PIECES):
            sequence = 2 if (round_ + number) % 2 else 9
            append_events(server.log_path, [ev.ItemDelta(run_id=RUN, sequence=sequence,
                                                         text=piece, ts=at(5))])
            texts[sequence] += piece
            shows(page, f"#running-now .item[data-sequence='{sequence}'] .streaming",
                  texts[sequence][-PREVIEW_CHARS:])
    assert len(texts[9]) > PREVIEW_CHARS and len(texts[2]) > PREVIEW_CHARS
    counted = page.evaluate("window.__streamEvents")
    assert counted.get("run_item_delta", 0) >= len(PIECES), counted

    page.evaluate("location.hash = '#/'")
    append_events(server.log_path, [ev.ItemDelta(run_id=RUN, sequence=9, text=" 🎉 end",
                                                 ts=at(6))])
    texts[9] += " 🎉 end"
    shows(page, f'.card[data-run-id="{RUN}"] .preview', texts[9][-PREVIEW_CHARS:])
    assert not dashboard.errors


def test_the_pages_delta_rule_is_the_servers_applied_one_by_one_or_composed(dashboard, server):
    """``text-delta.js`` against ``projections.text_deltas`` on the same random streams:
    deltas applied one by one, or composed into one (as a hidden tab's wait for a frame
    does), end where the server's item is."""
    rng = random.Random(7)
    cases = []
    for _ in range(40):
        history = [("delta", "".join(rng.choice(("ab", "🌍", "ü", " ", "∑x²", "z" * 90))
                                     for _ in range(rng.randint(0, 6))))
                   if rng.random() < 0.8 else ("send", "") for _ in range(rng.randint(1, 30))]
        sent = streamed(history)
        compacted = TextBases().compact(sent[:-1])  # up to the last running state
        joined = rng.randrange(len(sent) - 1)
        cases.append({"item": orjson.loads(sent[joined].data)["item"],
                      "deltas": [orjson.loads(m.data) for m in compacted[joined + 1:]
                                 if m.event == "run_item_delta"],
                      "expected": orjson.loads(sent[-2].data)["item"]})
    page = dashboard.open("#/")
    results = page.evaluate("""async (cases) => {
      const { applyTextDelta, composeTextDeltas } = await import("/static/js/text-delta.js");
      return cases.map(({ item, deltas }) => {
        const oneByOne = deltas.reduce((held, delta) => applyTextDelta(held, delta) ?? held, item);
        const one = deltas.length ? deltas.reduce(composeTextDeltas) : null;
        const composed = one ? applyTextDelta(item, one) ?? item : item;
        return [oneByOne.activity, composed.activity, one ? Array.from(one.text).length : 0];
      });
    }""", cases)
    for case, (one_by_one, composed, composed_chars) in zip(cases, results, strict=True):
        assert one_by_one == case["expected"]["activity"]
        assert composed == case["expected"]["activity"]
        assert composed_chars <= PREVIEW_CHARS  # however many it stands for
