"""An alarm set as CloudFormation resources (``AWS::Logs::MetricFilter``, ``AWS::CloudWatch::Alarm``).

Printed by ``sagawatch alarms template`` as a ``Resources:`` block, and written into
``instrumented_app/template.yaml`` by ``--from-template PATH --write`` (``alarms.app_template``);
property names follow the resource specs, which differ from the API's (``FilterName`` for
``filterName``, ``MetricTransformations[].MetricName`` ...).
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


def alarm_resource(definition: AlarmDefinition, topic_ref: str | None = None) -> dict[str, Any]:
    """``AWS::CloudWatch::Alarm`` takes the ``PutMetricAlarm`` names, except for ``Tags``.

    ``topic_ref`` names the template's ``AWS::SNS::Topic`` resource: OK and ALARM actions become
    ``{"Ref": topic_ref}``, the topic's ARN once deployed.
    """
    properties = definition.to_put_metric_alarm()
    if topic_ref is not None:
        properties["AlarmActions"] = [{"Ref": topic_ref}]
        properties["OKActions"] = [{"Ref": topic_ref}]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def to_resources(alarm_set: AlarmSet, topic_ref: str | None = None) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for f in alarm_set.metric_filters:
        resources[logical_id("MetricFilter", f.filterName)] = metric_filter_resource(f)
    for a in alarm_set.alarms:
        resources[logical_id("Alarm", a.AlarmName)] = alarm_resource(a, topic_ref)
    return resources


def to_yaml(alarm_set: AlarmSet, topic_ref: str | None = None) -> str:
    """A ``Resources:`` block to paste into (or merge with) a template."""
    resources = {"Resources": to_resources(alarm_set, topic_ref)}
    return yaml.dump(resources, Dumper=_NoAliases, sort_keys=False, width=110)


class _NoAliases(yaml.SafeDumper):
    """CloudFormation rejects YAML aliases (``*id001``): repeated values are written out again."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
