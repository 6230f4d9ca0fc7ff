"""Runs sorted by when they were created, so the archive's default page (every run,
newest first) costs the runs it shows, not a filter and a sort of every run ever
recorded (~3 ms at 6,000 runs, paid again at every append since each one moves the
position the response cache is keyed on).

A run's creation time is set when it is created and never changes, and runs are only
ever appended to ``RunStore.order``; so, like ``RunNames``, the order is brought up to
date lazily from the runs created since a reader last looked, and needs no part in the
fold or in a snapshot. Runs are mostly created in time order: each one then lands at
the end.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from projections.state import RunRecord

CreatedKey = tuple[float, int]


def created_key(record: RunRecord) -> CreatedKey:
    """By creation time; a run without one sorts by its place in the log, among the
    oldest."""
    created = record.info.created_at
    return (created.timestamp() if created else float("-inf"), record.ordinal)


class CreationOrder:
    """Every run of the store, the oldest first."""

    __slots__ = ("_keys", "_runs")

    def __init__(self) -> None:
        self._keys: list[CreatedKey] = []
        self._runs: list[RunRecord] = []

    def page(self, order: Sequence[RunRecord], start: int, limit: int, *,
             newest_first: bool) -> list[RunRecord]:
        """Runs ``start`` to ``start + limit`` of ``order`` (the store's runs in log
        order) sorted by creation."""
        self._catch_up(order)
        runs = self._runs
        if not newest_first:
            return runs[start:start + limit]
        stop = len(runs) - start
        return runs[max(0, stop - limit):max(0, stop)][::-1]

    def _catch_up(self, order: Sequence[RunRecord]) -> None:
        keys, runs = self._keys, self._runs
        for record in order[len(runs):]:
            key = created_key(record)
            if not keys or key > keys[-1]:
                keys.append(key)
                runs.append(record)
            else:
                at = bisect.bisect(keys, key)
                keys.insert(at, key)
                runs.insert(at, record)
