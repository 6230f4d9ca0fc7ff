"""Confidence intervals for accuracies: what a difference of a few points is worth."""

from __future__ import annotations

import math

import msgspec

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""


class Interval(msgspec.Struct, rename="camel", gc=False):
    low: float
    high: float


def wilson(correct: int, n: int, *, z: float = Z95) -> Interval | None:
    """Wilson's score interval for ``correct`` successes in ``n`` trials; ``None`` for
    ``n == 0``. Unlike the normal approximation it stays inside [0, 1] and is honest
    for small ``n`` and for accuracies near 0 or 1."""
    if n <= 0:
        return None
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def paired_difference(only_b: int, only_a: int, n: int, *, z: float = Z95) -> Interval | None:
    """An interval for accuracy(b) - accuracy(a) on ``n`` items both runs judged, where
    ``only_b`` items were right in b alone and ``only_a`` right in a alone.

    Paired (the runs answered the same questions), so only the discordant items carry
    information: the variance is that of the per-item difference (Newcombe would be
    tighter at the edges; this Wald form is clear and fine for n in the tens or more)."""
    if n <= 0:
        return None
    diff = (only_b - only_a) / n
    variance = ((only_b + only_a) / n - diff * diff) / n
    half = z * math.sqrt(max(variance, 0.0))
    return Interval(max(-1.0, diff - half), min(1.0, diff + half))
