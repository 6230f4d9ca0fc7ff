"""The run page's figures: Wilson intervals, paired differences, the items table."""

from __future__ import annotations

import pytest

from events import schema as ev
from events.writer import encode_line
from projections.archive import summarize
from projections.intervals import paired_difference, wilson
from projections.item_table import item_table
from projections.run_stats import percentile, run_stats
from tests.support.events import TS, fold, run_history


def test_wilson_interval_matches_the_textbook_values() -> None:
    interval = wilson(8, 10)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.4902, 0.9433)
    perfect = wilson(10, 10)
    assert perfect is not None and perfect.high == pytest.approx(1.0)
    assert perfect.low == pytest.approx(0.7225, abs=1e-4)
    assert wilson(0, 0) is None


def test_paired_difference_is_centred_on_the_discordant_items() -> None:
    interval = paired_difference(only_b=10, only_a=2, n=100)
    assert interval is not None
    assert interval.low < 0.08 < interval.high
    assert paired_difference(0, 0, 0) is None


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50 and percentile(values, 0.95) == 95
    assert percentile([], 0.5) is None


def graded(run_id: str) -> list[ev.Event]:
    events = run_history(run_id, total=4, answers=(True, False, True), finish=None)
    events += [ev.ItemStarted(run_id=run_id, sequence=4, prompt_text="Needle here", ts=TS),
               ev.ItemFaulted(run_id=run_id, sequence=4, error="429 Too Many Requests", ts=TS)]
    return events


def test_the_items_table_filters_searches_and_sorts_with_missing_values_last() -> None:
    record = fold(*graded("r")).runs.runs["r"]
    assert [r.sequence for r in item_table(record, states={"correct"}).rows] == [1, 3]
    assert [r.sequence for r in item_table(record, text="NEEDLE").rows] == [4]
    assert [r.sequence for r in item_table(record, text="too many").rows] == [4]
    by_latency = item_table(record, sort="latency", descending=True)
    assert by_latency.rows[-1].sequence == 4 and by_latency.matched == 4
    page = item_table(record, offset=2, limit=1)
    assert [r.sequence for r in page.rows] == [3] and page.total == 4


def test_run_stats_group_faults_and_compute_accuracy_with_its_interval() -> None:
    stats = run_stats(fold(*graded("r")).runs.runs["r"])
    assert (stats.judged, stats.correct) == (3, 2)
    assert stats.accuracy_interval is not None and stats.accuracy_interval.low < 2 / 3
    assert [(f.message, f.count) for f in stats.faults] == [("429 Too Many Requests", 1)]
    assert stats.latency_p50_ms == 12.5


def test_a_users_retry_is_counted_apart_from_a_crash_resume() -> None:
    events = run_history("r", total=2, answers=(True,), finish=None)
    events += [ev.RunResumed(run_id="r", ts=TS),  # while running: a crash resume
               ev.RunFinished(run_id="r", status="failed", error="x", ts=TS),
               ev.RunResumed(run_id="r", ts=TS)]  # after it ended: a user's retry
    lifecycle = fold(*events).runs.runs["r"].lifecycle
    assert (lifecycle.resumed_count, lifecycle.retried_count) == (2, 1)


def test_each_run_keeps_the_exact_log_position_of_each_of_its_events() -> None:
    mine = run_history("mine", total=1, answers=(True,))
    other = run_history("other", total=1, answers=(False,))
    events = [e for pair in zip(mine, other, strict=True) for e in pair]
    ends: dict[str, list[int]] = {"mine": [], "other": []}
    offset = 0
    for event in events:
        offset += len(encode_line(event))
        ends[event.run_id].append(offset)
    runs = fold(*events).runs.runs  # the replay fast path
    assert list(runs["mine"].positions) == ends["mine"]
    assert list(runs["other"].positions) == ends["other"]


def answered(sequence: int, tokens: int, latency_ms: float) -> ev.ItemAnswered:
    return ev.ItemAnswered(run_id="r", sequence=sequence, response_text="A", answer="A",
                           latency_ms=latency_ms, ts=TS,
                           usage=ev.Usage(prompt_tokens=tokens, completion_tokens=1))


def test_the_archive_counts_each_items_latest_attempt_once() -> None:
    record = fold(*run_history("r", total=3, answers=(), finish=None),
                  answered(1, 10, 100.0), answered(1, 20, 300.0),  # answered again
                  answered(2, 5, 50.0),
                  ev.ItemStarted(run_id="r", sequence=2, prompt_text="again", ts=TS),  # retry
                  answered(3, 7, 200.0)).runs.runs["r"]
    summary = summarize(record)
    assert summary.tokens == (20 + 1) + (7 + 1)
    assert summary.latency_mean_ms == pytest.approx(250.0)
    assert summarize(fold(*run_history("q", answers=(), finish=None)).runs.runs["q"]).tokens is None
