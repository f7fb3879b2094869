"""One period's raw values -> the alarm's statistic (``Sum``, ``Average``, ``p99`` ...)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction


def aggregate(values: Sequence[float], statistic: str) -> float:
    """The statistic of a non-empty list of values.

    Percentiles use the nearest-rank method (the smallest value with at least p% of the
    values at or below it); CloudWatch documents its percentiles only as approximations.
    """
    if not values:
        raise ValueError("cannot aggregate an empty period")
    if statistic == "SampleCount":
        return float(len(values))
    if statistic == "Sum":
        return math.fsum(values)
    if statistic == "Average":
        return math.fsum(values) / len(values)
    if statistic == "Minimum":
        return min(values)
    if statistic == "Maximum":
        return max(values)
    if statistic.startswith("p"):
        return percentile(values, float(statistic[1:]))
    raise ValueError(f"unknown statistic {statistic!r}")


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if p <= 0:
        return ordered[0]
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def low_sample_minimum(p: float) -> float:
    """Fewest samples for a "statistically significant" percentile (the alarm docs' rule).

    "For percentiles between 0.5 and 1.00, ... fewer than 10/(1-percentile) data points ...
    For percentiles between 0 and 0.5, ... fewer than 10/percentile data points."
    """
    fraction = Fraction(str(p)) / 100  # exact: 10 / (1 - 0.9) is 100, not 100.00000000000001
    if fraction >= Fraction(1, 2):
        return math.inf if fraction >= 1 else float(10 / (1 - fraction))
    return math.inf if fraction <= 0 else float(10 / fraction)
