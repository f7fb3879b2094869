"""Pacing: starts spaced by the rate from the run's start, none after the duration, bounds named."""

from __future__ import annotations

import pytest

from instrumented_app.traffic.pacing import Pacing


def test_starts_are_spaced_by_the_rate_and_a_late_run_catches_up_at_once() -> None:
    pacing = Pacing(rate=4.0)
    assert [pacing.due(100.0, i) for i in range(4)] == [100.0, 100.25, 100.5, 100.75]
    assert pacing.wait_s(100.0, 2, now=100.1) == pytest.approx(0.4)
    assert pacing.wait_s(100.0, 2, now=103.0) == 0.0  # behind schedule: no wait


def test_without_a_rate_every_start_is_due_at_once() -> None:
    assert Pacing().wait_s(0.0, 500, now=1.0) == 0.0


def test_no_start_is_due_after_the_duration_even_one_scheduled_past_it() -> None:
    pacing = Pacing(rate=2.0, duration_s=3.0)
    assert pacing.wait_s(0.0, 5, now=1.0) == pytest.approx(1.5)  # due at 2.5 s: inside
    assert pacing.wait_s(0.0, 6, now=1.0) is None  # due at 3.0 s: the run is over by then
    assert not Pacing(duration_s=3.0).open(0.0, 3.0)
    assert Pacing(duration_s=3.0).open(0.0, 2.9)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"rate": 0.0}, "rate"),
        ({"rate": 5_000.0}, "rate"),
        ({"duration_s": -1.0}, "duration_s"),
        ({"duration_s": 10**6}, "duration_s"),
    ],
)
def test_out_of_bounds_pacing_is_refused_naming_the_field(kwargs: dict[str, float], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        Pacing(**kwargs)
