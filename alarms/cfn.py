"""An alarm set as CloudFormation resources (``AWS::Logs::MetricFilter``, ``AWS::CloudWatch::Alarm``).

Printed by ``sagawatch alarms template`` as a ``Resources:`` block to paste into (or include in)
``instrumented_app/template.yaml``; property names follow the resource specs, which differ from
the API's (``FilterName`` for ``filterName``, ``MetricTransformations[].MetricName`` ...).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from alarms.evaluate.metric_filter import MetricFilterDefinition
from alarms.evaluate.model import AlarmDefinition
from alarms.standard import AlarmSet

_WORDS = re.compile(r"[A-Za-z0-9]+")


def logical_id(kind: str, name: str) -> str:
    """An alphanumeric logical id: ``("Alarm", "sagawatch-errors-sw-a")`` -> ``AlarmSagawatchErrorsSwA``."""
    return kind + "".join(w[:1].upper() + w[1:] for w in _WORDS.findall(name))[:240]


def metric_filter_resource(definition: MetricFilterDefinition) -> dict[str, Any]:
    tf = definition.transformation
    transformation: dict[str, Any] = {
        "MetricName": tf.metricName,
        "MetricNamespace": tf.metricNamespace,
        "MetricValue": tf.metricValue,
    }
    if tf.defaultValue is not None:
        transformation["DefaultValue"] = tf.defaultValue
    if tf.dimensions:
        transformation["Dimensions"] = [{"Key": k, "Value": v} for k, v in tf.dimensions.items()]
    if tf.unit is not None:
        transformation["Unit"] = tf.unit
    return {
        "Type": "AWS::Logs::MetricFilter",
        "Properties": {
            "LogGroupName": definition.logGroupName,
            "FilterName": definition.filterName,
            "FilterPattern": definition.filterPattern,
            "MetricTransformations": [transformation],
        },
    }


def alarm_resource(definition: AlarmDefinition) -> dict[str, Any]:
    """``AWS::CloudWatch::Alarm`` takes the ``PutMetricAlarm`` names, except for ``Tags``."""
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": definition.to_put_metric_alarm()}


def to_resources(alarm_set: AlarmSet) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for f in alarm_set.metric_filters:
        resources[logical_id("MetricFilter", f.filterName)] = metric_filter_resource(f)
    for a in alarm_set.alarms:
        resources[logical_id("Alarm", a.AlarmName)] = alarm_resource(a)
    return resources


def to_yaml(alarm_set: AlarmSet) -> str:
    return yaml.safe_dump({"Resources": to_resources(alarm_set)}, sort_keys=False, width=110)
