"""The JSON CloudWatch publishes to an alarm's SNS topic on a change of state, built locally.

Shape of CloudWatch's "alarm state change" SNS message: ``AlarmName``, ``NewStateValue``,
``NewStateReason``, ``OldStateValue``, ``StateChangeTime``, ``Region`` (its long name),
``AlarmArn`` and ``Trigger`` with the metric, statistic (upper case) and threshold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.evaluator import AlarmState
from alarms.evaluate.model import AlarmDefinition

#: Region names as CloudWatch writes them in notifications; unknown codes are written as is.
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
}
#: SNS subjects are at most 100 characters.
MAX_SUBJECT = 100


def cloudwatch_time(moment: datetime) -> str:
    """``2026-11-24T06:15:42.821+0000``, CloudWatch's timestamp format in notifications."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def alarm_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{name}"


def notification(
    alarm: AlarmDefinition | CompositeAlarmDefinition, state: AlarmState, region: str, account_id: str
) -> dict[str, Any]:
    """The message body CloudWatch would publish for this transition (a composite alarm's names its
    ``AlarmRule`` instead of a metric ``Trigger``)."""
    old = state.PreviousStateValue.value if state.PreviousStateValue else "INSUFFICIENT_DATA"
    body = {
        "AlarmName": alarm.AlarmName,
        "AlarmDescription": alarm.AlarmDescription,
        "AWSAccountId": account_id,
        "NewStateValue": state.StateValue.value,
        "NewStateReason": state.StateReason,
        "StateChangeTime": cloudwatch_time(state.StateUpdatedTimestamp),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm_arn(region, account_id, alarm.AlarmName),
        "OldStateValue": old,
        "OKActions": alarm.OKActions,
        "AlarmActions": alarm.AlarmActions,
        "InsufficientDataActions": alarm.InsufficientDataActions,
    }
    if isinstance(alarm, CompositeAlarmDefinition):
        return body | {"AlarmRule": alarm.AlarmRule}
    return body | {
        "Trigger": {
            "MetricName": alarm.MetricName,
            "Namespace": alarm.Namespace,
            "StatisticType": "Statistic" if alarm.Statistic else "ExtendedStatistic",
            "Statistic": alarm.Statistic.value.upper() if alarm.Statistic else None,
            "ExtendedStatistic": alarm.ExtendedStatistic,
            "Unit": alarm.Unit,
            "Dimensions": [{"value": d.Value, "name": d.Name} for d in alarm.Dimensions],
            "Period": alarm.Period,
            "EvaluationPeriods": alarm.EvaluationPeriods,
            "DatapointsToAlarm": alarm.datapoints_to_alarm,
            "ComparisonOperator": alarm.ComparisonOperator.value,
            "Threshold": alarm.Threshold,
            "TreatMissingData": alarm.TreatMissingData.value,
            "EvaluateLowSampleCountPercentile": alarm.EvaluateLowSampleCountPercentile or "",
        },
    }


def subject(alarm: AlarmDefinition | CompositeAlarmDefinition, state: AlarmState, region: str) -> str:
    """``ALARM: "name" in US East (N. Virginia)``, cut to SNS's limit."""
    text = f'{state.StateValue.value}: "{alarm.AlarmName}" in {REGION_NAMES.get(region, region)}'
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 3] + "..."
