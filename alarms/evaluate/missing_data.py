"""The heart of alarm evaluation: breaching/non-breaching/missing periods -> a state.

Pure and small on purpose: it encodes the CloudWatch user guide's "Configuring how CloudWatch
alarms treat missing data" (the rules and both tables, and "Avoiding premature transitions to
alarm state"), and is tested against those tables row by row.

CloudWatch looks at more periods than ``EvaluationPeriods`` (N): the *evaluation range*. The
doc's examples use a range of 5 for N = 3; the exact size "depends on the length of the alarm
period", so here it is a parameter defaulting to N + 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from alarms.evaluate.model import AlarmStateValue, MissingData


class Period(StrEnum):
    """One period of the evaluation range, as the doc's tables write it."""

    BREACHING = "X"
    NOT_BREACHING = "0"
    MISSING = "-"


@dataclass(frozen=True)
class Decision:
    """The outcome, and why, for the state reason.

    ``state`` is ``None`` when the alarm keeps its current state (missing data ignored).
    ``evaluated`` are the indexes (into the range, oldest first) of the real periods used;
    ``filled`` how many missing periods were filled in, as ``filled_as``.
    """

    state: AlarmStateValue | None
    rule: str
    evaluated: tuple[int, ...] = ()
    filled: int = 0
    filled_as: Period | None = None


def default_evaluation_range(evaluation_periods: int) -> int:
    return evaluation_periods + 2


def decide(periods: Sequence[Period], n: int, m: int, treat: MissingData) -> Decision:
    """Apply the documented rules to ``periods`` (oldest first, the most recent last).

    ``n`` is EvaluationPeriods, ``m`` DatapointsToAlarm.
    """
    real = [i for i, p in enumerate(periods) if p is not Period.MISSING]
    if len(real) >= n:
        # Enough real data points: the most recent N real ones decide; missing data is not needed.
        used = tuple(real[-n:])
        breaching = sum(periods[i] is Period.BREACHING for i in used)
        return Decision(AlarmStateValue.ALARM if breaching >= m else AlarmStateValue.OK, "threshold", used)
    missing_needed = n - len(real)
    if not real:
        return _all_missing(n, treat)
    breaching = sum(periods[i] is Period.BREACHING for i in real)
    used = tuple(real)
    if treat is MissingData.BREACHING:
        state = AlarmStateValue.ALARM if breaching + missing_needed >= m else AlarmStateValue.OK
        return Decision(state, "filled", used, missing_needed, Period.BREACHING)
    if treat is MissingData.NOT_BREACHING:
        state = AlarmStateValue.ALARM if breaching >= m else AlarmStateValue.OK
        return Decision(state, "filled", used, missing_needed, Period.NOT_BREACHING)
    # missing / ignore: real data points only.
    if breaching >= m:
        return Decision(AlarmStateValue.ALARM, "threshold", used)
    if breaching < len(real):
        return Decision(AlarmStateValue.OK, "threshold", used)
    # Every real data point breaches, but there are fewer than M of them.
    oldest_age = len(periods) - real[0]
    if treat is MissingData.MISSING and oldest_age >= m:
        # "alarms are designed to always go into ALARM state when the oldest available breaching
        # datapoint ... is at least as old as the value of Datapoints to Alarm, and all other more
        # recent data points are breaching or missing".
        return Decision(AlarmStateValue.ALARM, "premature-rule", used)
    if treat is MissingData.MISSING:
        return Decision(AlarmStateValue.INSUFFICIENT_DATA, "insufficient", used)
    return Decision(None, "ignore", used)


def _all_missing(n: int, treat: MissingData) -> Decision:
    if treat is MissingData.BREACHING:
        return Decision(AlarmStateValue.ALARM, "filled", (), n, Period.BREACHING)
    if treat is MissingData.NOT_BREACHING:
        return Decision(AlarmStateValue.OK, "filled", (), n, Period.NOT_BREACHING)
    if treat is MissingData.IGNORE:
        return Decision(None, "ignore")
    return Decision(AlarmStateValue.INSUFFICIENT_DATA, "insufficient")
