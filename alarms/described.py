"""CloudWatch's descriptions (``describe_alarms``, ``describe_metric_filters``) back into request models.

``describe_alarms`` adds ARNs, state and timestamps to the ``PutMetricAlarm`` fields, and moto adds
an empty ``Metrics`` list to plain alarms: only the request's own fields are kept. Used by the
engine (what to evaluate), the deploy (what is already there) and ``alarms status``.
"""

from __future__ import annotations

from typing import Any

from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.metric_filter import MetricFilterDefinition
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue

#: moto creates alarms in OK with this reason; CloudWatch creates them in INSUFFICIENT_DATA.
INITIAL_REASON = "Unchecked: Initial alarm creation"


def current_state(described: dict[str, Any]) -> AlarmStateValue:
    """The alarm's state, where "never evaluated" is INSUFFICIENT_DATA as on AWS."""
    if described.get("StateReason") == INITIAL_REASON:
        return AlarmStateValue.INSUFFICIENT_DATA
    return AlarmStateValue(described.get("StateValue", "INSUFFICIENT_DATA"))


def alarm_from_description(described: dict[str, Any]) -> AlarmDefinition:
    fields = AlarmDefinition.model_fields
    params = {k: v for k, v in described.items() if k in fields and v is not None and v != []}
    return AlarmDefinition.model_validate(params)


def composite_from_description(described: dict[str, Any]) -> CompositeAlarmDefinition:
    fields = CompositeAlarmDefinition.model_fields
    params = {k: v for k, v in described.items() if k in fields and v is not None and v != []}
    return CompositeAlarmDefinition.model_validate(params)


def filter_from_description(described: dict[str, Any]) -> MetricFilterDefinition:
    fields = MetricFilterDefinition.model_fields
    return MetricFilterDefinition.model_validate({k: v for k, v in described.items() if k in fields})
