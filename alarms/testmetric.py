"""``TestMetricFilter``, locally: which events a pattern matches and what it extracts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alarms.patterns import FilterPattern


def test_metric_filter(pattern: FilterPattern, messages: Iterable[str]) -> dict[str, Any]:
    """The response CloudWatch Logs' ``TestMetricFilter`` gives for these log event messages.

    ``{"matches": [{"eventNumber": N, "eventMessage": ..., "extractedValues": {...}}]}``, with
    events numbered from 1 in the order given.
    """
    matches = []
    for number, message in enumerate(messages, start=1):
        found = pattern.match(message)
        if found is not None:
            matches.append(
                {"eventNumber": number, "eventMessage": message, "extractedValues": dict(found.extracted)}
            )
    return {"matches": matches}


test_metric_filter.__test__ = False  # type: ignore[attr-defined]  # not a pytest test despite its name
