"""A run's summary figures: tokens, latency percentiles, throughput, accuracy with its
interval, faults grouped by message, and the series its small charts draw.

One pass over the run's started items; the cost is that of the run's size, so the
page asks for it once and then at most every few seconds while the run is live.
"""

from __future__ import annotations

from collections import Counter

import msgspec

from projections.cost import Cost, ModelPrice, cost_of
from projections.intervals import Interval, wilson
from projections.state import RunRecord

HISTOGRAM_BINS = 20
ACCURACY_POINTS = 120
FAULT_GROUPS = 20


class FaultGroup(msgspec.Struct, rename="camel", gc=False):
    message: str
    count: int
    sequences: list[int]  # the first few, to open them


class Histogram(msgspec.Struct, rename="camel", gc=False):
    edges: list[float]  # len(counts) + 1 bin edges
    counts: list[int]


class RunStats(msgspec.Struct, rename="camel", gc=False):
    run_id: str
    judged: int
    correct: int
    accuracy: float | None
    accuracy_interval: Interval | None
    prompt_tokens: int
    completion_tokens: int
    usage_items: int  # items whose answer reported token usage: tokens and cost are theirs
    answered_items: int  # items with an answer
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    items_per_minute: float | None
    faults: list[FaultGroup]
    latency_histogram: Histogram | None
    score_histogram: Histogram | None
    accuracy_over_time: list[tuple[int, float]]  # (items judged so far, accuracy so far)
    cost: Cost | None = None  # only when the model's price is configured
    cost_problem: str | None = None  # why no price could be read (a bad price list)


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def histogram(values: list[float], *, bins: int = HISTOGRAM_BINS) -> Histogram | None:
    if not values:
        return None
    low, high = min(values), max(values)
    if high == low:
        return Histogram([low, high], [len(values)])
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return Histogram([low + width * i for i in range(bins + 1)], counts)


def run_stats(record: RunRecord, *, price: ModelPrice | None = None, currency: str = "USD",
              price_problem: str | None = None) -> RunStats:
    """The run's figures; its cost too when ``price`` (the model's) is given."""
    latencies: list[float] = []
    scores: list[float] = []
    prompt_tokens = completion_tokens = usage_items = answered_items = 0
    faults: Counter[str] = Counter()
    fault_items: dict[str, list[int]] = {}
    judged_at: list[tuple[str, int, bool]] = []
    for sequence, item in record.items.items():
        if item.latency_ms is not None:
            latencies.append(item.latency_ms)
        if item.score is not None:
            scores.append(item.score)
        answered_items += item.response_text is not None
        if item.usage is not None:
            usage_items += 1
            prompt_tokens += item.usage.prompt_tokens or 0
            completion_tokens += item.usage.completion_tokens or 0
        if item.state == "faulted" and item.error is not None:
            faults[item.error] += 1
            seen = fault_items.setdefault(item.error, [])
            if len(seen) < 5:
                seen.append(sequence)
        if item.correct is not None and item.state in ("correct", "incorrect"):
            judged_at.append((item.finished_at.isoformat() if item.finished_at else "",
                              sequence, item.correct))
    latencies.sort()
    judged_at.sort()
    correct = sum(1 for _, _, right in judged_at if right)
    judged = len(judged_at)
    return RunStats(
        run_id=record.info.id,
        judged=judged,
        correct=correct,
        accuracy=correct / judged if judged else None,
        accuracy_interval=wilson(correct, judged),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        usage_items=usage_items,
        answered_items=answered_items,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        items_per_minute=_throughput(record),
        faults=[FaultGroup(message, count, fault_items[message])
                for message, count in faults.most_common(FAULT_GROUPS)],
        latency_histogram=histogram(latencies),
        score_histogram=histogram(scores),
        accuracy_over_time=_running_accuracy([right for _, _, right in judged_at]),
        cost=(cost_of(prompt_tokens, completion_tokens, price, currency=currency)
              if price is not None else None),
        cost_problem=price_problem,
    )


def _throughput(record: RunRecord) -> float | None:
    """Finished items (judged or faulted) per minute between the run's start and the
    last item's end."""
    info = record.info
    ends = [item.finished_at for item in record.items.values() if item.finished_at is not None]
    if info.started_at is None or not ends:
        return None
    seconds = (max(ends) - info.started_at).total_seconds()
    return len(ends) / seconds * 60 if seconds > 0 else None


def _running_accuracy(verdicts: list[bool]) -> list[tuple[int, float]]:
    """Accuracy after each judged item, thinned to at most ``ACCURACY_POINTS`` points."""
    step = max(1, len(verdicts) // ACCURACY_POINTS)
    points: list[tuple[int, float]] = []
    right = 0
    for index, verdict in enumerate(verdicts, start=1):
        right += verdict
        if index % step == 0 or index == len(verdicts):
            points.append((index, right / index))
    return points
