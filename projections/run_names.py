"""Runs by the names they were created with, so a filtered archive read costs the runs
it may match, not every run ever recorded.

A run's model, dataset, provider and labels are set when it is created and never
change, and runs are only ever appended to ``RunStore.order``; so the index is brought
up to date lazily, when a reader asks, from the runs created since it last looked. It
therefore needs no part in the fold, nor in a snapshot: a store loaded from one catches
up on the first read.
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.state import RunRecord

NameKey = tuple[str, str]  # ("model" | "dataset" | "provider" | "label", casefolded name)


class RunNames:
    """Runs in creation order under each of their names."""

    __slots__ = ("_runs", "_seen")

    def __init__(self) -> None:
        self._runs: dict[NameKey, list[RunRecord]] = {}
        self._seen = 0  # how many of the store's runs are indexed

    def runs_named(self, order: Sequence[RunRecord], keys: Sequence[NameKey]
                   ) -> list[RunRecord] | None:
        """The runs (of ``order``, the store's runs in creation order) that carry every
        name in ``keys``, as a superset: the fewest runs under any one of them. ``None``
        if ``keys`` is empty (no name narrows the search)."""
        if not keys:
            return None
        self._catch_up(order)
        return min((self._runs.get(key, []) for key in keys), key=len)

    def _catch_up(self, order: Sequence[RunRecord]) -> None:
        for record in order[self._seen:]:
            info = record.info
            for key in (("model", info.model_name.casefold()),
                        ("dataset", info.dataset_name.casefold()),
                        ("provider", info.provider_name.casefold()),
                        *(("label", f"{k}:{v}") for k, v in info.labels.items())):
                self._runs.setdefault(key, []).append(record)
        self._seen = len(order)
