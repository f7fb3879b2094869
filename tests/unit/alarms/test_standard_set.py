"""The standard set: built from an inventory, tuned by settings, printed as valid CloudFormation."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from alarms.cfn import to_yaml
from alarms.engine.ingest import datums_at_resolution, put_metric_data_requests
from alarms.evaluate.metric_filter import LogEvent, apply_metric_filter
from alarms.inventory import Inventory, dead_letter_queue_name
from alarms.names import STUCK_SAGAS
from alarms.settings import AlarmSettings
from alarms.standard import error_filter, standard_set

TOPIC = "arn:aws:sns:us-east-1:123456789012:sagawatch-alarms"
INVENTORY = Inventory(
    functions=("sw-customers", "sw-diagnostics"),
    dead_letter_queues=("jobs-dlq",),
    apis=(("sagawatch-app-api", "v1"),),
    canary_functions=("sw-canary",),
)


def by_name(settings: AlarmSettings | None = None) -> dict[str, dict[str, object]]:
    alarms = standard_set(INVENTORY, settings or AlarmSettings(), TOPIC).alarms
    return {a.AlarmName: a.to_put_metric_alarm() for a in alarms}


def test_every_function_gets_an_error_filter_and_alarm_without_code_changes() -> None:
    one = standard_set(Inventory(functions=("sw-a",)), AlarmSettings(), TOPIC)
    two = standard_set(Inventory(functions=("sw-a", "sw-new")), AlarmSettings(), TOPIC)
    assert [f.logGroupName for f in two.metric_filters] == ["/aws/lambda/sw-a", "/aws/lambda/sw-new"]
    new = {a.AlarmName for a in two.alarms} - {a.AlarmName for a in one.alarms}
    assert new == {"sagawatch-errors-sw-new"}
    assert two.metric_filters[1].filterPattern == '{ $.level = "ERROR" }'


def test_the_set_names_each_alarm_an_operator_expects() -> None:
    assert sorted(by_name()) == [
        "sagawatch-api-5xx-sagawatch-app-api-v1",
        "sagawatch-canary-error-delta-sw-canary",
        "sagawatch-dlq-age-jobs-dlq",
        "sagawatch-dlq-depth-jobs-dlq",
        "sagawatch-drift-findings",
        "sagawatch-errors-sw-customers",
        "sagawatch-errors-sw-diagnostics",
        "sagawatch-stuck-sagas",
    ]


def test_each_alarm_watches_the_right_metric_and_notifies_the_topic_both_ways() -> None:
    alarms = by_name()
    dlq = alarms["sagawatch-dlq-depth-jobs-dlq"]
    assert (dlq["Namespace"], dlq["MetricName"], dlq["Dimensions"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": "jobs-dlq"}],
    )
    api = alarms["sagawatch-api-5xx-sagawatch-app-api-v1"]
    assert (api["MetricName"], api["Statistic"], api["Threshold"]) == ("5XXError", "Average", 0.05)
    stuck = alarms["sagawatch-stuck-sagas"]
    assert (stuck["Namespace"], stuck["MetricName"]) == STUCK_SAGAS
    assert all(a["AlarmActions"] == [TOPIC] and a["OKActions"] == [TOPIC] for a in alarms.values())


def test_periods_and_thresholds_come_from_settings_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGAWATCH_ALARMS_PERIOD_S", "10")
    monkeypatch.setenv("SAGAWATCH_ALARMS_EVALUATION_PERIODS", "3")
    monkeypatch.setenv("SAGAWATCH_ALARMS_DATAPOINTS_TO_ALARM", "2")
    monkeypatch.setenv("SAGAWATCH_ALARMS_DLQ_AGE_THRESHOLD_S", "60")
    alarms = by_name(AlarmSettings())
    errors = alarms["sagawatch-errors-sw-customers"]
    assert (errors["Period"], errors["EvaluationPeriods"], errors["DatapointsToAlarm"]) == (10, 3, 2)
    assert alarms["sagawatch-dlq-age-jobs-dlq"]["Threshold"] == 60.0


@pytest.mark.parametrize(
    ("env", "value", "field"),
    [("PERIOD_S", "45", "period_s"), ("API_5XX_RATE_THRESHOLD", "2", "api_5xx_rate_threshold")],
)
def test_a_bad_setting_is_refused_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, field: str
) -> None:
    monkeypatch.setenv(f"SAGAWATCH_ALARMS_{env}", value)
    with pytest.raises(ValidationError) as caught:
        AlarmSettings()
    assert caught.value.errors()[0]["loc"] == (field,)


def test_no_topic_means_no_actions() -> None:
    alarms = standard_set(INVENTORY, AlarmSettings(), None).alarms
    assert all(not a.AlarmActions and not a.OKActions for a in alarms)


def test_the_dead_letter_queue_is_read_from_the_redrive_policy() -> None:
    policy = json.dumps(
        {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:jobs-dlq", "maxReceiveCount": 3}
    )
    assert dead_letter_queue_name(policy) == "jobs-dlq"
    assert dead_letter_queue_name("") is None
    assert dead_letter_queue_name('{"maxReceiveCount": 3}') is None


def test_the_template_output_is_valid_cloudformation(tmp_path: Path) -> None:
    text = to_yaml(standard_set(INVENTORY, AlarmSettings(), TOPIC))
    resources = yaml.safe_load(text)["Resources"]
    assert resources["MetricFilterErrorsSwCustomers"]["Properties"]["MetricTransformations"][0] == {
        "MetricName": "Errors-sw-customers",
        "MetricNamespace": "sagawatch/logs",
        "MetricValue": "1",
        "DefaultValue": 0.0,
        "Unit": "Count",
    }
    assert resources["AlarmSagawatchStuckSagas"]["Type"] == "AWS::CloudWatch::Alarm"
    assert resources["AlarmSagawatchStuckSagas"]["Properties"]["AlarmActions"] == [TOPIC]
    template = tmp_path / "alarms.yaml"
    template.write_text('AWSTemplateFormatVersion: "2010-09-09"\n' + text)
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(template), "--regions", "us-east-1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_finer_buckets_split_a_minute_and_sixty_seconds_is_exactly_cloudwatch_logs() -> None:
    base = 1_795_500_000_000  # a whole minute, in ms
    events = [
        LogEvent(timestamp=base + 1_000, message='{"level": "ERROR"}'),
        LogEvent(timestamp=base + 15_000, message='{"level": "ERROR"}'),
        LogEvent(timestamp=base + 16_000, message='{"level": "INFO"}'),
    ]
    definition = error_filter("sw-a")
    fine = datums_at_resolution(definition, events, 10)
    assert [(d.timestamp.second, d.sum, d.sample_count) for d in fine] == [(0, 1.0, 1), (10, 1.0, 2)]
    assert datums_at_resolution(definition, events, 60) == apply_metric_filter(definition, events)
    (request,) = put_metric_data_requests(fine, 10)
    assert request["Namespace"] == "sagawatch/logs"
    assert request["MetricData"][1]["StatisticValues"] == {
        "SampleCount": 2.0,
        "Sum": 1.0,
        "Minimum": 0.0,
        "Maximum": 1.0,
    }
    assert request["MetricData"][1]["StorageResolution"] == 1
    assert request["MetricData"][1]["Timestamp"] == datetime.fromtimestamp(base / 1000 + 10, UTC)


def test_with_a_topic_ref_the_actions_point_at_the_templates_own_topic(tmp_path: Path) -> None:
    text = to_yaml(standard_set(INVENTORY, AlarmSettings(), None), topic_ref="AlarmTopic")
    resources = yaml.safe_load(text)["Resources"]
    assert resources["AlarmSagawatchDlqAgeJobsDlq"]["Properties"]["OKActions"] == [{"Ref": "AlarmTopic"}]
    template = tmp_path / "alarms.yaml"
    template.write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n' + text + "  AlarmTopic:\n    Type: AWS::SNS::Topic\n"
    )
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(template), "--regions", "us-east-1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
