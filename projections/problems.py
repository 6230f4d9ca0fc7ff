"""Counting what could not be read or applied, for ``GET /api/health``."""

from __future__ import annotations

import logging
from collections import Counter, deque

import msgspec

logger = logging.getLogger("harness.log")

RECENT_PROBLEMS = 20


class ProblemReport(msgspec.Struct, rename="camel", kw_only=True):
    position: str
    kind: str
    message: str
    excerpt: str = ""


class ProblemLog:
    """Counts by kind, and the last few problems with the position of their line.

    Every problem is logged once, when its line is first read.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.recent: deque[ProblemReport] = deque(maxlen=RECENT_PROBLEMS)

    def record(self, report: ProblemReport) -> None:
        self.counts[report.kind] += 1
        self.recent.append(report)
        logger.warning("skipped log line at %s (%s): %s", report.position, report.kind,
                       report.message)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
