"""Comparing runs on the same dataset: accuracy side by side, each run against a
baseline on the items both judged (with n and an interval for the change), the items
that regressed, improved or stayed wrong, and where the runs' answers disagree."""

from __future__ import annotations

from typing import Any

import msgspec

from projections.archive import summarize
from projections.intervals import Interval, paired_difference, wilson
from projections.state import RunRecord

MAX_DISAGREEMENTS = 500
MAX_LISTED = 500  # sequences listed per regression/improvement/both-wrong tab


class ComparedRun(msgspec.Struct, rename="camel"):
    id: str
    model_name: str
    provider_name: str
    dataset_name: str
    status: str
    accuracy: float | None
    counts: dict[str, int]
    judged: int
    config: dict[str, Any]
    labels: dict[str, str]


class Pairing(msgspec.Struct, rename="camel"):
    """One run against the baseline, on the ``shared`` items both judged."""

    run_id: str
    baseline_id: str
    shared: int
    baseline_accuracy: float | None
    baseline_interval: Interval | None
    accuracy: float | None
    interval: Interval | None
    delta: float | None
    delta_interval: Interval | None
    regressions: list[int]   # right in the baseline, wrong here
    improvements: list[int]  # wrong in the baseline, right here
    both_wrong: list[int]
    counts: dict[str, int]   # regressions, improvements, bothWrong, bothRight


class Answer(msgspec.Struct, rename="camel"):
    answer: str | None
    state: str
    correct: bool | None


class Disagreement(msgspec.Struct, rename="camel"):
    sequence: int
    prompt_text: str | None
    expected: str | None
    answers: dict[str, Answer]


class Comparison(msgspec.Struct, rename="camel"):
    runs: list[ComparedRun]
    baseline: str
    pairings: list[Pairing]
    disagreements: list[Disagreement]
    truncated: bool


class DatasetsDiffer(ValueError):
    """Runs on different datasets: their sequences do not name the same questions."""

    def __init__(self, datasets: list[str]) -> None:
        super().__init__("runs to compare must be on the same dataset")
        self.datasets = datasets


def pair(baseline: RunRecord, other: RunRecord) -> Pairing:
    right_both = right_base = right_other = 0
    lists: dict[str, list[int]] = {"regressions": [], "improvements": [], "both_wrong": []}
    counts = {"regressions": 0, "improvements": 0, "bothWrong": 0, "bothRight": 0}
    shared = 0
    for sequence in sorted(baseline.items.keys() & other.items.keys()):
        was, now = baseline.items[sequence].correct, other.items[sequence].correct
        if was is None or now is None:
            continue
        shared += 1
        right_base += was
        right_other += now
        if was and now:
            right_both += 1
            counts["bothRight"] += 1
            continue
        kind, key = (("regressions", "regressions") if was else
                     ("improvements", "improvements") if now else ("both_wrong", "bothWrong"))
        counts[key] += 1
        if len(lists[kind]) < MAX_LISTED:
            lists[kind].append(sequence)
    base_acc = right_base / shared if shared else None
    acc = right_other / shared if shared else None
    return Pairing(
        run_id=other.info.id, baseline_id=baseline.info.id, shared=shared,
        baseline_accuracy=base_acc, baseline_interval=wilson(right_base, shared),
        accuracy=acc, interval=wilson(right_other, shared),
        delta=None if acc is None or base_acc is None else acc - base_acc,
        delta_interval=paired_difference(counts["improvements"], counts["regressions"], shared),
        regressions=lists["regressions"], improvements=lists["improvements"],
        both_wrong=lists["both_wrong"], counts=counts)


def compare(records: list[RunRecord], *, baseline: str | None = None) -> Comparison:
    """Runs must share a dataset (else ``DatasetsDiffer``): their sequences then name
    the same questions. ``baseline`` (the id of one of the runs, else ``ValueError``;
    the first by default) is what the others are measured against."""
    datasets = {record.info.dataset_name for record in records}
    if len(datasets) > 1:
        raise DatasetsDiffer(sorted(datasets))
    base = next((r for r in records if r.info.id == baseline), None) if baseline else records[0]
    if base is None:
        raise ValueError(f"baseline {baseline!r} is not one of the compared runs")
    runs = []
    for r in records:
        progress = r.progress()
        runs.append(ComparedRun(r.info.id, r.info.model_name, r.info.provider_name,
                                r.info.dataset_name, r.info.status, summarize(r).accuracy,
                                r.state_counts(), progress.completed, r.config, r.info.labels))
    pairings = [pair(base, r) for r in records if r is not base]
    disagreements, truncated = _disagreements(records)
    return Comparison(runs, base.info.id, pairings, disagreements, truncated)


def _disagreements(records: list[RunRecord]) -> tuple[list[Disagreement], bool]:
    disagreements: list[Disagreement] = []
    for sequence in range(1, max(r.total for r in records) + 1):
        items = {r.info.id: r.item(sequence) for r in records if sequence <= r.total}
        judged = [item for item in items.values() if item.correct is not None]
        if len(judged) < 2 or len({(i.answer, i.correct) for i in judged}) == 1:
            continue
        if len(disagreements) == MAX_DISAGREEMENTS:
            return disagreements, True
        first = judged[0]
        disagreements.append(Disagreement(
            sequence, first.prompt_text, first.expected,
            {run_id: Answer(i.answer, i.state, i.correct) for run_id, i in items.items()}))
    return disagreements, False
