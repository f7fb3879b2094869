"""Conformance: the two tables of "Configuring how CloudWatch alarms treat missing data".

Source: CloudWatch User Guide -> "Configuring how CloudWatch alarms treat missing data" ->
"How alarm state is evaluated when data is missing". Data points are the evaluation range of
5, the most recent on the right; 0 non-breaching, X breaching, - missing. "retain" is the
table's "Retain current state". The ids cite table and row.
"""

from __future__ import annotations

import pytest

from alarms.evaluate.missing_data import Period, decide
from alarms.evaluate.model import AlarmStateValue, MissingData

COLUMNS = (MissingData.MISSING, MissingData.IGNORE, MissingData.BREACHING, MissingData.NOT_BREACHING)
STATES = {
    "OK": AlarmStateValue.OK,
    "ALARM": AlarmStateValue.ALARM,
    "INSUFFICIENT": AlarmStateValue.INSUFFICIENT_DATA,
}


def parse(points: str) -> list[Period]:
    """The doc's notation, "0 - X - X", as periods (oldest first)."""
    return [Period(p) for p in points.split()]


# (id, data points, N, M, [MISSING, IGNORE, BREACHING, NOT BREACHING])
TABLE = [
    ("table-1(3-of-3)/row-1", "0 - X - X", 3, 3, ["OK", "OK", "OK", "OK"]),
    ("table-1(3-of-3)/row-2", "0 - - - -", 3, 3, ["OK", "OK", "OK", "OK"]),
    ("table-1(3-of-3)/row-3", "- - - - -", 3, 3, ["INSUFFICIENT", "retain", "ALARM", "OK"]),
    ("table-1(3-of-3)/row-4", "0 X X - X", 3, 3, ["ALARM", "ALARM", "ALARM", "ALARM"]),
    ("table-1(3-of-3)/row-5", "- - X - -", 3, 3, ["ALARM", "retain", "ALARM", "OK"]),
    ("table-2(2-of-3)/row-1", "0 - X - X", 3, 2, ["ALARM", "ALARM", "ALARM", "ALARM"]),
    ("table-2(2-of-3)/row-2", "0 0 X 0 X", 3, 2, ["ALARM", "ALARM", "ALARM", "ALARM"]),
    ("table-2(2-of-3)/row-3", "0 - X - -", 3, 2, ["OK", "OK", "ALARM", "OK"]),
    ("table-2(2-of-3)/row-4", "- - - - 0", 3, 2, ["OK", "OK", "ALARM", "OK"]),
    ("table-2(2-of-3)/row-5", "- - - X -", 3, 2, ["ALARM", "retain", "ALARM", "OK"]),
    # The earlier revision of the page had two more 3-of-3 rows.
    ("table-1(old)/- - - - X", "- - - - X", 3, 3, ["INSUFFICIENT", "retain", "ALARM", "OK"]),
    ("table-1(old)/X - - - -", "X - - - -", 3, 3, ["ALARM", "retain", "ALARM", "OK"]),
]


@pytest.mark.parametrize(("points", "n", "m", "expected"), [c[1:] for c in TABLE], ids=[c[0] for c in TABLE])
def test_missing_data_table(points: str, n: int, m: int, expected: list[str]) -> None:
    periods = parse(points)
    got = [decide(periods, n, m, treat).state for treat in COLUMNS]
    assert got == [None if e == "retain" else STATES[e] for e in expected]


def test_premature_alarm_examples_from_the_text() -> None:
    """ "Avoiding premature transitions to alarm state": with - - - - X or - - - X - (3 of 3)
    the alarm does not go to ALARM; with - - X - - it does, even with missing as missing."""
    for points, alarm in (("- - - - X", False), ("- - - X -", False), ("- - X - -", True)):
        state = decide(parse(points), 3, 3, MissingData.MISSING).state
        assert (state is AlarmStateValue.ALARM) is alarm, points


def test_table_1_row_2_next_evaluation_goes_to_alarm_when_breaching() -> None:
    """Text under table 1: "The next time this alarm is evaluated, if the data is still missing it
    will go to ALARM, as that non-breaching data point will no longer be in the evaluation range"."""
    periods = parse("- - - - -")
    assert decide(periods, 3, 3, MissingData.BREACHING).state is AlarmStateValue.ALARM


def test_extra_real_points_are_used_when_recent_ones_are_missing() -> None:
    """Rule 2: enough real points in the range -> the most recent real ones, treatment ignored."""
    decision = decide(parse("X X X - -"), 3, 3, MissingData.NOT_BREACHING)
    assert decision.state is AlarmStateValue.ALARM
    assert decision.evaluated == (0, 1, 2) and decision.filled == 0
