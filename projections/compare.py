"""Comparing runs on the same dataset: accuracy side by side, and where they disagree."""

from __future__ import annotations

import msgspec

from projections.archive import summarize
from projections.state import RunRecord

MAX_DISAGREEMENTS = 500


class ComparedRun(msgspec.Struct, rename="camel"):
    id: str
    model_name: str
    provider_name: str
    dataset_name: str
    status: str
    accuracy: float | None
    counts: dict[str, int]


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
    disagreements: list[Disagreement]
    truncated: bool


class DatasetsDiffer(ValueError):
    """Runs on different datasets: their sequences do not name the same questions."""

    def __init__(self, datasets: list[str]) -> None:
        super().__init__("runs to compare must be on the same dataset")
        self.datasets = datasets


def compare(records: list[RunRecord]) -> Comparison:
    """Runs must share a dataset (else ``DatasetsDiffer``): their sequences then name
    the same questions."""
    datasets = {record.info.dataset_name for record in records}
    if len(datasets) > 1:
        raise DatasetsDiffer(sorted(datasets))
    runs = [ComparedRun(r.info.id, r.info.model_name, r.info.provider_name, r.info.dataset_name,
                        r.info.status, summarize(r).accuracy, r.state_counts()) for r in records]
    disagreements: list[Disagreement] = []
    truncated = False
    for sequence in range(1, max(r.total for r in records) + 1):
        items = {r.info.id: r.item(sequence) for r in records if sequence <= r.total}
        judged = [item for item in items.values() if item.correct is not None]
        if len(judged) < 2 or len({(i.answer, i.correct) for i in judged}) == 1:
            continue
        if len(disagreements) == MAX_DISAGREEMENTS:
            truncated = True
            break
        first = judged[0]
        disagreements.append(Disagreement(
            sequence, first.prompt_text, first.expected,
            {run_id: Answer(i.answer, i.state, i.correct) for run_id, i in items.items()}))
    return Comparison(runs, disagreements, truncated)
