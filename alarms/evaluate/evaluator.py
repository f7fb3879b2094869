"""``evaluate_alarm``: raw datapoints + a ``PutMetricAlarm`` definition -> the alarm's state.

1. Bucket the datapoints into periods of ``Period`` seconds, aligned to the epoch, ending with
   the last complete period before ``now``; keep the evaluation range (N + 2 by default).
2. Aggregate each period with ``Statistic`` / ``ExtendedStatistic`` and compare it with the
   threshold: breaching, not breaching, or missing when it has no datapoint.
3. Let ``missing_data.decide`` apply CloudWatch's rules, and word the reason as CloudWatch does.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from alarms.evaluate import reasons
from alarms.evaluate.missing_data import Decision, Period, decide, default_evaluation_range
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue, Comparison
from alarms.evaluate.statistics import aggregate, low_sample_minimum


class UnsupportedAlarmError(ValueError):
    """The definition is valid for CloudWatch but uses something the local evaluator does not model."""


class Datapoint(BaseModel):
    """One raw value of the metric; ``timestamp`` ISO 8601 or epoch seconds (naive means UTC)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timestamp: AwareDatetime
    value: float

    @field_validator("timestamp", mode="before")
    @classmethod
    def _utc_if_naive(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if isinstance(value, str) and not _has_zone(value):
            return f"{value}+00:00" if "T" in value or " " in value else value
        return value


def _has_zone(text: str) -> bool:
    tail = text[10:]
    return text.endswith(("Z", "z")) or "+" in tail or "-" in tail


class AlarmState(BaseModel):
    """The alarm after an evaluation, with the fields ``DescribeAlarms`` reports."""

    model_config = ConfigDict(frozen=True)

    AlarmName: str
    StateValue: AlarmStateValue
    StateReason: str
    StateReasonData: dict[str, Any]
    StateUpdatedTimestamp: AwareDatetime
    PreviousStateValue: AlarmStateValue | None
    changed: bool

    def summary(self) -> dict[str, str]:
        return {"StateValue": self.StateValue.value, "StateReason": self.StateReason}


_COMPARE: dict[Comparison, Callable[[float, float], bool]] = {
    Comparison.GREATER_THAN_OR_EQUAL: operator.ge,
    Comparison.GREATER_THAN: operator.gt,
    Comparison.LESS_THAN: operator.lt,
    Comparison.LESS_THAN_OR_EQUAL: operator.le,
}


def evaluate_alarm(
    alarm: AlarmDefinition,
    datapoints: Iterable[Datapoint],
    now: datetime,
    previous_state: AlarmState | AlarmStateValue | None = None,
    *,
    evaluation_range: int | None = None,
) -> AlarmState:
    """The alarm's state at ``now`` given the metric's raw datapoints (pure; nothing is sent)."""
    _check_supported(alarm)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    n, m = alarm.EvaluationPeriods, alarm.datapoints_to_alarm
    span = evaluation_range or default_evaluation_range(n)
    if span < n:
        raise ValueError(f"evaluation_range ({span}) cannot be shorter than EvaluationPeriods ({n})")
    starts = period_starts(now, alarm.Period, span)
    buckets = bucket_periods(alarm, datapoints, starts)
    previous = previous_state.StateValue if isinstance(previous_state, AlarmState) else previous_state
    too_few = _too_few_samples(alarm, buckets[-n:])
    if too_few is not None:
        kept = previous or AlarmStateValue.INSUFFICIENT_DATA
        return AlarmState(
            AlarmName=alarm.AlarmName,
            StateValue=kept,
            StateReason=too_few,
            StateReasonData={"version": "1.0", "statistic": alarm.statistic_name, "period": alarm.Period},
            StateUpdatedTimestamp=now,
            PreviousStateValue=previous,
            changed=False,
        )
    values = [aggregate(b, alarm.statistic_name) if b else None for b in buckets]
    compare, threshold = _COMPARE[alarm.ComparisonOperator], float(alarm.Threshold or 0.0)
    periods = [
        Period.MISSING if v is None else (Period.BREACHING if compare(v, threshold) else Period.NOT_BREACHING)
        for v in values
    ]
    decision = decide(periods, n, m, alarm.TreatMissingData)
    state, reason = _state_and_reason(alarm, decision, starts, values, periods, previous)
    return AlarmState(
        AlarmName=alarm.AlarmName,
        StateValue=state,
        StateReason=reason,
        StateReasonData=_reason_data(alarm, now, starts, values, decision, threshold),
        StateUpdatedTimestamp=now,
        PreviousStateValue=previous,
        changed=previous is not None and state is not previous,
    )


def _check_supported(alarm: AlarmDefinition) -> None:
    if alarm.Metrics is not None:
        raise UnsupportedAlarmError("Metrics (metric math) alarms are not evaluated locally; use MetricName")
    if alarm.ComparisonOperator not in _COMPARE:
        raise UnsupportedAlarmError(
            f"ComparisonOperator {alarm.ComparisonOperator.value} compares against an anomaly detection band "
            "(ThresholdMetricId), which the local evaluator does not model"
        )


def period_starts(now: datetime, period: int, count: int) -> list[datetime]:
    """Starts of the last ``count`` complete periods before ``now``, oldest first, epoch-aligned."""
    epoch = int(now.timestamp())
    last_end = epoch - epoch % period
    return [datetime.fromtimestamp(last_end - k * period, UTC) for k in range(count, 0, -1)]


def bucket_periods(
    alarm: AlarmDefinition, datapoints: Iterable[Datapoint], starts: Sequence[datetime]
) -> list[list[float]]:
    """The raw values falling in each period (empty where the period has no datapoint)."""
    period = timedelta(seconds=alarm.Period)
    first, end = starts[0], starts[-1] + period
    buckets: list[list[float]] = [[] for _ in starts]
    for point in datapoints:
        if first <= point.timestamp < end:
            buckets[int((point.timestamp - first) / period)].append(point.value)
    return buckets


def _too_few_samples(alarm: AlarmDefinition, evaluated: Sequence[list[float]]) -> str | None:
    """With ``EvaluateLowSampleCountPercentile=ignore``, why the alarm waits for more data.

    "you can have the alarm ignore the metric while the sample size is low, and wait to evaluate
    it until there is enough data to be statistically significant" (percentile-based alarms).
    """
    if alarm.ExtendedStatistic is None or alarm.EvaluateLowSampleCountPercentile != "ignore":
        return None
    samples = sum(len(b) for b in evaluated)
    needed = low_sample_minimum(float(alarm.ExtendedStatistic[1:]))
    if samples >= needed:
        return None
    wanted = "more" if math.isinf(needed) else f"at least {math.ceil(needed)}"
    return (
        f"Unchanged: {samples} samples in the last {alarm.EvaluationPeriods} periods are too few for "
        f"{alarm.ExtendedStatistic} ({wanted} needed; EvaluateLowSampleCountPercentile=ignore)."
    )


def _state_and_reason(
    alarm: AlarmDefinition,
    decision: Decision,
    starts: Sequence[datetime],
    values: Sequence[float | None],
    periods: Sequence[Period],
    previous: AlarmStateValue | None,
) -> tuple[AlarmStateValue, str]:
    n, m = alarm.EvaluationPeriods, alarm.datapoints_to_alarm
    threshold = float(alarm.Threshold or 0.0)
    if decision.state is None:
        return previous or AlarmStateValue.INSUFFICIENT_DATA, reasons.IGNORED_REASON
    if decision.rule == "insufficient":
        return decision.state, reasons.insufficient_reason(n - len(decision.evaluated))
    if decision.rule == "filled" and not decision.evaluated:
        return decision.state, reasons.all_missing_reason(decision.filled, decision.filled_as)
    used = list(reversed(decision.evaluated))  # most recent first, as CloudWatch lists them
    if decision.rule == "premature-rule":
        points = [(starts[i], _value(values[i])) for i in used]
        return decision.state, reasons.premature_reason(alarm.ComparisonOperator, threshold, points)
    wanted = Period.BREACHING if decision.state is AlarmStateValue.ALARM else Period.NOT_BREACHING
    listed = [(starts[i], _value(values[i])) for i in used if periods[i] is wanted]
    counted = len(listed) + (decision.filled if decision.filled_as is wanted else 0)
    reason = reasons.threshold_reason(
        decision.state,
        alarm.ComparisonOperator,
        threshold,
        listed,
        counted,
        n,
        m,
        decision.filled,
        decision.filled_as,
    )
    return decision.state, reason


def _value(value: float | None) -> float:
    assert value is not None  # evaluated periods are real ones
    return value


def _reason_data(
    alarm: AlarmDefinition,
    now: datetime,
    starts: Sequence[datetime],
    values: Sequence[float | None],
    decision: Decision,
    threshold: float,
) -> dict[str, Any]:
    """``StateReasonData``'s shape: the query, the recent values and the evaluated datapoints."""
    fmt = "%Y-%m-%dT%H:%M:%S.000+0000"
    return {
        "version": "1.0",
        "queryDate": now.astimezone(UTC).strftime(fmt),
        "startDate": starts[0].strftime(fmt),
        "statistic" if alarm.Statistic else "extendedStatistic": alarm.statistic_name,
        "period": alarm.Period,
        "recentDatapoints": [v for v in values[-alarm.EvaluationPeriods :] if v is not None],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": starts[i].strftime(fmt), "value": values[i]} for i in reversed(decision.evaluated)
        ],
    }


def state_reason_data_json(state: AlarmState) -> str:
    """``StateReasonData`` as the JSON string CloudWatch stores."""
    return json.dumps(state.StateReasonData, separators=(",", ":"))
