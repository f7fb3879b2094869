"""The loop's lifecycle, and the SNS message CloudWatch's subscribers expect."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from alarms.actions.base import Transition
from alarms.actions.sns import SnsAction, actions_for
from alarms.engine import AlarmEngine, AlarmLoop, EngineParts, PassReport
from alarms.evaluate.composite import CompositeAlarmDefinition, evaluate_composite_alarm
from alarms.evaluate.evaluator import Datapoint, evaluate_alarm
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue
from alarms.notification import notification, subject
from alarms.settings import AlarmSettings
from tests.unit.alarms.fakes import FakeCloudWatch, FakeLogs

TOPIC = "arn:aws:sns:us-east-1:123456789012:sagawatch-alarms"
ALARM = AlarmDefinition.model_validate(
    {
        "AlarmName": "sagawatch-dlq-depth-jobs-dlq",
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": "jobs-dlq"}],
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": [TOPIC],
        "OKActions": [],
    }
)


class CountingEngine(AlarmEngine):
    """Counts passes; the second one fails as a bug would."""

    def __init__(self) -> None:
        super().__init__(AlarmSettings(), parts=EngineParts(backend=FakeCloudWatch(), logs=FakeLogs()))
        self.calls = 0
        self.third_pass = threading.Event()

    def run_once(self, now: datetime | None = None) -> PassReport:
        self.calls += 1
        if self.calls == 3:
            self.third_pass.set()
        if self.calls == 2:
            raise RuntimeError("a bug")
        return PassReport()


def test_the_loop_keeps_running_after_a_failed_pass_and_stops_when_told() -> None:
    engine = CountingEngine()
    loop = AlarmLoop(engine, interval_s=0.01)
    loop.start()
    assert engine.third_pass.wait(10)
    loop.stop(timeout_s=10)
    calls = engine.calls
    assert calls >= 3
    threading.Event().wait(0.1)
    assert engine.calls == calls  # nothing runs after stop


def test_a_loop_refuses_a_second_start_and_a_zero_interval() -> None:
    loop = AlarmLoop(CountingEngine(), interval_s=5)
    loop.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            loop.start()
    finally:
        loop.stop()
    with pytest.raises(ValueError, match="interval_s"):
        AlarmLoop(CountingEngine(), interval_s=0)


def raised() -> Transition:
    now = datetime(2026, 11, 24, 6, 15, 42, 821000, tzinfo=UTC)
    state = evaluate_alarm(
        ALARM, [Datapoint(timestamp=now.replace(minute=14), value=3)], now, AlarmStateValue.OK
    )
    return Transition(ALARM, state)


def test_the_notification_has_cloudwatchs_fields() -> None:
    body = notification(ALARM, raised().state, "us-east-1", "123456789012")
    assert body["NewStateValue"] == "ALARM" and body["OldStateValue"] == "OK"
    assert body["StateChangeTime"] == "2026-11-24T06:15:42.821+0000"
    assert body["Region"] == "US East (N. Virginia)"
    assert body["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:sagawatch-dlq-depth-jobs-dlq"
    assert body["Trigger"]["Statistic"] == "MAXIMUM"
    assert body["Trigger"]["Dimensions"] == [{"value": "jobs-dlq", "name": "QueueName"}]
    assert body["NewStateReason"].startswith("Threshold Crossed")
    assert (
        subject(ALARM, raised().state, "us-east-1")
        == 'ALARM: "sagawatch-dlq-depth-jobs-dlq" in US East (N. Virginia)'
    )


def test_a_composite_notification_names_its_rule_instead_of_a_metric() -> None:
    composite = CompositeAlarmDefinition(
        AlarmName="jobs-degraded", AlarmRule='ALARM("sagawatch-dlq-depth-jobs-dlq")'
    )
    state = evaluate_composite_alarm(
        composite, {ALARM.AlarmName: "ALARM"}, datetime.now(UTC), AlarmStateValue.OK
    )
    body = notification(composite, state, "eu-west-3", "123456789012")
    assert body["AlarmRule"] == 'ALARM("sagawatch-dlq-depth-jobs-dlq")'
    assert "Trigger" not in body
    assert body["Region"] == "eu-west-3"


class RecordingSns:
    def __init__(self) -> None:
        self.published: list[dict[str, str]] = []

    def publish(self, **params: str) -> None:
        self.published.append(params)


def test_sns_gets_the_actions_of_the_new_state_only() -> None:
    sns = RecordingSns()
    action = SnsAction(sns, "us-east-1", "123456789012")
    action.fire(raised())
    assert [p["TopicArn"] for p in sns.published] == [TOPIC]
    back = raised().state.model_copy(
        update={"StateValue": AlarmStateValue.OK, "PreviousStateValue": AlarmStateValue.ALARM}
    )
    action.fire(Transition(ALARM, back))  # OKActions is empty
    assert len(sns.published) == 1
    disabled = ALARM.model_copy(update={"ActionsEnabled": False})
    assert actions_for(Transition(disabled, raised().state)) == []
