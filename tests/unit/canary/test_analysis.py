"""Which data a canary analysis uses, and what it refuses, with in-memory sample sources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from alarms.canary.analysis import NoCanaryError, analyse
from alarms.canary.control import AliasState
from alarms.canary.judge import Verdict, default_config
from alarms.canary.metrics import DURATION_MS, ERROR_RATE, VersionSamples

END = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
START = END - timedelta(hours=1)
STATE = AliasState(function="fn", alias="live", primary_version="1", canary_version="2", canary_weight=0.05)


class Recorded:
    """A source that answers fixed samples and remembers what it was asked."""

    def __init__(self, name: str, per_version: dict[str, tuple[int, int]]) -> None:
        self.name = name
        self._per_version = per_version  # version -> (invocations, errors)
        self.asked: list[tuple[list[str], datetime, datetime]] = []

    def samples(self, versions: Sequence[str], start: datetime, end: datetime) -> dict[str, VersionSamples]:
        self.asked.append((list(versions), start, end))
        found = {}
        for version in versions:
            invocations, errors = self._per_version.get(version, (0, 0))
            found[version] = VersionSamples(
                version=version,
                invocations=invocations,
                errors=errors,
                samples={
                    ERROR_RATE: [1.0] * errors + [0.0] * (invocations - errors),
                    DURATION_MS: [30.0 + n % 5 for n in range(invocations)],
                    "cold_starts": [0.0] * invocations,  # not judged: left out, not an error
                },
            )
        return found


def test_the_first_source_with_enough_data_decides() -> None:
    sparse = Recorded("metrics", {"1": (5, 0), "2": (1, 0)})
    rich = Recorded("logs", {"1": (500, 0), "2": (60, 15)})

    report = analyse(STATE, [sparse, rich], START, END, default_config())

    assert report.source == "logs"
    assert report.result.verdict is Verdict.FAIL
    assert sparse.asked == [(["1", "2"], START, END)]
    assert [(v.role, v.version, v.weight, v.invocations, v.errors) for v in report.versions] == [
        ("baseline", "1", 0.95, 500, 0),
        ("canary", "2", 0.05, 60, 15),
    ]
    assert report.versions[1].error_rate == 0.25


def test_a_source_that_decides_stops_the_search() -> None:
    first = Recorded("metrics", {"1": (500, 5), "2": (100, 1)})
    second = Recorded("logs", {"1": (500, 0), "2": (60, 15)})

    report = analyse(STATE, [first, second], START, END, default_config())

    assert report.source == "metrics"
    assert report.result.verdict is Verdict.PASS
    assert second.asked == []


def test_when_no_source_has_enough_the_last_ones_counts_are_shown() -> None:
    report = analyse(
        STATE,
        [Recorded("metrics", {}), Recorded("logs", {"1": (300, 0), "2": (7, 0)})],
        START,
        END,
        default_config(),
    )
    assert report.source == "logs"
    assert report.result.verdict is Verdict.NOT_ENOUGH_DATA
    assert report.versions[1].invocations == 7


def test_an_alias_without_a_canary_has_nothing_to_judge() -> None:
    alone = AliasState(function="fn", alias="live", primary_version="3")
    with pytest.raises(NoCanaryError, match="routes only to version 3: no canary to judge"):
        analyse(alone, [Recorded("logs", {})], START, END, default_config())


def test_a_window_that_ends_before_it_starts_is_refused_naming_end() -> None:
    with pytest.raises(ValueError, match=r"^end: "):
        analyse(STATE, [Recorded("logs", {})], END, START, default_config())
