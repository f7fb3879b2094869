"""One pass of the local evaluator at a time, on in-memory fakes of CloudWatch and the logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alarms.engine import AlarmEngine, EngineParts
from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.evaluator import Datapoint
from alarms.evaluate.metric_filter import LogEvent
from alarms.evaluate.model import AlarmDefinition, AlarmStateValue
from alarms.settings import AlarmSettings
from alarms.standard import error_filter
from tests.unit.alarms.fakes import FakeCloudWatch, FakeLogs, RecordingAction

FN = "sw-customers"
GROUP = f"/aws/lambda/{FN}"
BASE = 1_795_500_000  # a multiple of 60: minute and 10 s boundaries line up
ERROR = json.dumps({"level": "ERROR", "message": "support 503"})
INFO = json.dumps({"level": "INFO", "message": "ok"})


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(BASE + seconds, UTC)


def errors_alarm(**overrides: object) -> AlarmDefinition:
    params: dict[str, object] = {
        "AlarmName": f"errors-{FN}",
        "Namespace": "sagawatch/logs",
        "MetricName": f"Errors-{FN}",
        "Statistic": "Sum",
        "Period": 10,
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:t"],
    }
    return AlarmDefinition.model_validate(params | overrides)


World = tuple[AlarmEngine, FakeCloudWatch, FakeLogs, RecordingAction]


@pytest.fixture
def world() -> World:
    """One function's ERROR filter and alarm (10 s periods), a recording action."""
    cloudwatch, logs, action = FakeCloudWatch(), FakeLogs(), RecordingAction()
    cloudwatch.filters.append(error_filter(FN))
    cloudwatch.add_alarm(errors_alarm())
    settings = AlarmSettings(period_s=10, log_metric_resolution_s=10)
    engine = AlarmEngine(settings, parts=EngineParts(backend=cloudwatch, logs=logs, actions=[action]))
    return engine, cloudwatch, logs, action


def test_error_lines_move_the_alarm_once_and_fire_the_actions_once(world: World) -> None:
    engine, cloudwatch, logs, action = world
    logs.append(GROUP, (BASE + 1) * 1000, ERROR)
    logs.append(GROUP, (BASE + 2) * 1000, INFO)

    first = engine.run_once(at(12))
    assert [t.state.StateValue for t in first.transitions] == [AlarmStateValue.ALARM]
    assert cloudwatch.states[f"errors-{FN}"] is AlarmStateValue.ALARM
    assert first.transitions[0].state.PreviousStateValue is AlarmStateValue.INSUFFICIENT_DATA

    logs.append(GROUP, (BASE + 13) * 1000, ERROR)  # still failing in the next period
    second = engine.run_once(at(22))
    assert second.transitions == []
    assert len(action.fired) == 1
    assert len(cloudwatch.set_calls) == 1


def test_the_reason_of_each_transition_reaches_the_actions(world: World) -> None:
    engine, _, logs, action = world
    logs.append(GROUP, (BASE + 1) * 1000, ERROR)
    logs.append(GROUP, (BASE + 3) * 1000, ERROR)
    engine.run_once(at(12))
    logs.append(GROUP, (BASE + 11) * 1000, INFO)
    engine.run_once(at(22))

    (raised, cleared) = action.fired
    assert raised.state.StateReason.startswith("Threshold Crossed: 1 datapoint [2.0 (")
    assert raised.state.StateReasonData["recentDatapoints"] == [2.0]
    assert cleared.state.StateValue is AlarmStateValue.OK
    assert cleared.state.PreviousStateValue is AlarmStateValue.ALARM
    assert "[0.0 (" in cleared.state.StateReason


def test_lines_without_errors_count_zero_and_keep_the_alarm_ok(world: World) -> None:
    engine, cloudwatch, logs, action = world
    cloudwatch.states[f"errors-{FN}"] = AlarmStateValue.OK
    for second in range(1, 9):
        logs.append(GROUP, (BASE + second) * 1000, INFO)
    report = engine.run_once(at(12))
    assert report.transitions == [] and action.fired == []
    assert [(d.sum, d.sample_count) for d in cloudwatch.datums] == [(0.0, 8)]


def test_a_failing_action_is_reported_and_the_others_still_fire() -> None:
    cloudwatch, logs = FakeCloudWatch(), FakeLogs()
    cloudwatch.add_alarm(errors_alarm())
    broken, working = RecordingAction("sns", fail=True), RecordingAction("audit")
    parts = EngineParts(backend=cloudwatch, logs=logs, actions=[broken, working])
    report = AlarmEngine(AlarmSettings(), parts=parts).run_once(at(12))

    assert len(working.fired) == 1 and len(broken.fired) == 1
    assert report.problems == [f"action sns of errors-{FN}: RuntimeError: topic unreachable"]
    assert cloudwatch.states[f"errors-{FN}"] is AlarmStateValue.OK  # the state change itself stands


def test_an_alarm_the_evaluator_cannot_model_is_skipped_and_the_rest_evaluated() -> None:
    cloudwatch, logs = FakeCloudWatch(), FakeLogs()
    cloudwatch.add_alarm(errors_alarm())
    cloudwatch.add_alarm(
        errors_alarm(
            AlarmName="band",
            ComparisonOperator="GreaterThanUpperThreshold",
            Threshold=None,
            ThresholdMetricId="ad1",
        )
    )
    report = AlarmEngine(AlarmSettings(), parts=EngineParts(backend=cloudwatch, logs=logs)).run_once(at(12))
    assert report.evaluated == 1
    assert cloudwatch.states["band"] is AlarmStateValue.INSUFFICIENT_DATA
    assert report.problems == []


def test_a_composite_alarm_follows_its_children_in_the_same_pass(world: World) -> None:
    engine, cloudwatch, logs, action = world
    cloudwatch.add_composite(
        CompositeAlarmDefinition(AlarmName="customers-degraded", AlarmRule=f'ALARM("errors-{FN}")')
    )
    logs.append(GROUP, (BASE + 1) * 1000, ERROR)
    report = engine.run_once(at(12))
    assert [(t.alarm.AlarmName, t.state.StateValue) for t in report.transitions] == [
        (f"errors-{FN}", AlarmStateValue.ALARM),
        ("customers-degraded", AlarmStateValue.ALARM),
    ]
    assert len(action.fired) == 2


def test_a_step_that_fails_does_not_stop_the_pass() -> None:
    class Unreachable(FakeLogs):
        def new_events(self, log_group: str) -> list[LogEvent]:
            raise ConnectionError("logs endpoint down")

    cloudwatch = FakeCloudWatch()
    cloudwatch.filters.append(error_filter(FN))
    cloudwatch.add_alarm(errors_alarm())
    engine = AlarmEngine(AlarmSettings(), parts=EngineParts(backend=cloudwatch, logs=Unreachable()))
    report = engine.run_once(at(12))
    assert report.problems == ["metric filters: ConnectionError: logs endpoint down"]
    assert report.evaluated == 1


def test_without_parts_the_engine_needs_the_running_stack() -> None:
    with pytest.raises(ValueError, match="stack_info"):
        AlarmEngine(AlarmSettings(), None)


def test_one_alarm_whose_metric_cannot_be_read_does_not_stop_the_others() -> None:
    class Flaky(FakeCloudWatch):
        def datapoints(self, alarm: AlarmDefinition, start: datetime, end: datetime) -> list[Datapoint]:
            if alarm.AlarmName == "first":
                raise TimeoutError("get_metric_data timed out")
            return super().datapoints(alarm, start, end)

    cloudwatch = Flaky()
    cloudwatch.add_alarm(errors_alarm(AlarmName="first"))
    cloudwatch.add_alarm(errors_alarm(AlarmName="second"))
    report = AlarmEngine(AlarmSettings(), parts=EngineParts(backend=cloudwatch, logs=FakeLogs())).run_once(
        at(12)
    )
    assert report.problems == ["alarm first: TimeoutError: get_metric_data timed out"]
    assert cloudwatch.states == {"first": AlarmStateValue.INSUFFICIENT_DATA, "second": AlarmStateValue.OK}


def test_with_no_lines_at_all_the_alarm_clears_once_the_errors_leave_the_evaluation_range(
    world: World,
) -> None:
    """CloudWatch evaluates the most recent datapoints within N + 2 periods: a silent function's
    alarm stays in ALARM until its last breaching period is older than that, then goes OK."""
    engine, _, logs, action = world
    logs.append(GROUP, (BASE + 1) * 1000, ERROR)
    states = [engine.run_once(at(12 + 10 * k)) for k in range(4)]
    assert [[t.state.StateValue for t in s.transitions] for s in states] == [
        [AlarmStateValue.ALARM],
        [],
        [],
        [AlarmStateValue.OK],
    ]
    assert action.fired[-1].state.StateReason.startswith("Threshold Crossed: no datapoints were received")
