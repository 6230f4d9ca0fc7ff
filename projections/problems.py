"""Counting what could not be read or applied, for ``GET /api/health``."""

from __future__ import annotations

from collections import Counter, deque

import msgspec

RECENT_PROBLEMS = 20


class ProblemReport(msgspec.Struct, rename="camel", kw_only=True):
    position: str
    kind: str
    message: str
    excerpt: str = ""


class ProblemLog:
    """Counts by kind, and the last few problems with the position of their line.

    It only counts: ``ReadModels.apply_batch`` returns each batch's problems, and the
    server logs them (a fold does no I/O).
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.recent: deque[ProblemReport] = deque(maxlen=RECENT_PROBLEMS)

    def record(self, report: ProblemReport) -> None:
        self.counts[report.kind] += 1
        self.recent.append(report)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
