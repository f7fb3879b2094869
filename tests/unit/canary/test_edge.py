"""The AWS edge of the canary against moto's server over HTTP: alias control, logs and metrics sources."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from alarms.canary.control import OPERATOR_ENV, AliasState, CanaryControl, CanaryControlError
from alarms.canary.metrics import (
    DURATION_MS,
    ERROR_RATE,
    CloudWatchMetricSource,
    LogReportSource,
    emf_metric_names,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.literals import StandardUnitType
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

from tests.unit.canary.aws_world import Aws, invocation_lines, lambda_stream

FIXED = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def control(aws: Aws) -> CanaryControl:
    return CanaryControl(aws.lambda_, operator="alice", clock=lambda: FIXED)


def test_status_reads_the_primary_and_the_canary_with_its_weight(aws: Aws) -> None:
    aws.canary_function("status-fn")
    assert control(aws).status("status-fn") == AliasState(
        function="status-fn", alias="live", primary_version="1", canary_version="2", canary_weight=0.05
    )


def test_set_weight_changes_the_canary_share_and_returns_an_audit_record(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    aws.canary_function("weight-fn")

    with caplog.at_level(logging.INFO, logger="sagawatch.audit"):
        record = control(aws).set_weight("weight-fn", "live", 0.25)

    answer = aws.lambda_.get_alias(FunctionName="weight-fn", Name="live")
    assert answer["FunctionVersion"] == "1"
    assert answer["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.25}
    assert (record.who, record.what, record.when) == ("alice", "set_weight", FIXED)
    assert (record.before.canary_weight, record.after.canary_weight) == (0.05, 0.25)
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "sagawatch.audit"]
    assert logged == [record.model_dump(mode="json")]


def test_set_weight_names_a_canary_version_when_the_alias_has_none(aws: Aws) -> None:
    aws.canary_function("plain-fn", weight=None)

    with pytest.raises(ValueError, match="version: alias 'live' of 'plain-fn' routes only to version 1"):
        control(aws).set_weight("plain-fn", "live", 0.05)
    record = control(aws).set_weight("plain-fn", "live", 0.05, version="2")

    assert record.after.canary_version == "2"
    assert record.after.canary_weight == 0.05


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), float("inf")])
def test_a_bad_weight_is_refused_naming_the_argument_and_nothing_changes(aws: Aws, weight: float) -> None:
    name = f"bad-weight-{uuid.uuid4().hex[:8]}"
    aws.canary_function(name)
    with pytest.raises(ValueError, match=r"^weight: must be"):
        control(aws).set_weight(name, "live", weight)
    assert control(aws).status(name).canary_weight == 0.05


def test_a_canary_version_that_does_not_exist_is_refused_in_the_services_words(aws: Aws) -> None:
    aws.canary_function("missing-version-fn")
    with pytest.raises(CanaryControlError, match="GetFunctionConfiguration missing-version-fn:7 refused"):
        control(aws).set_weight("missing-version-fn", "live", 0.5, version="7")
    assert control(aws).status("missing-version-fn").canary_version == "2"


def test_promote_points_the_alias_at_the_canary_and_clears_the_weights(aws: Aws) -> None:
    aws.canary_function("promote-fn")

    record = control(aws).promote("promote-fn")

    assert record.after == AliasState(function="promote-fn", alias="live", primary_version="2")
    assert control(aws).status("promote-fn") == record.after
    with pytest.raises(CanaryControlError, match="nothing to promote"):
        control(aws).promote("promote-fn")


def test_rollback_removes_the_canary_and_a_second_rollback_changes_nothing(aws: Aws) -> None:
    aws.canary_function("rollback-fn")

    first = control(aws).rollback("rollback-fn")
    second = control(aws).rollback("rollback-fn")

    assert first.before.canary_version == "2"
    assert first.after == AliasState(function="rollback-fn", alias="live", primary_version="1")
    assert "canary version 2 (weight 0.05) removed" in first.detail
    assert second.before == second.after
    assert second.detail == "no canary version was routed; nothing changed"


def test_an_unknown_function_is_named_in_the_error(aws: Aws) -> None:
    with pytest.raises(
        CanaryControlError, match=r"GetAlias no-such-fn:live refused: ResourceNotFoundException"
    ):
        control(aws).status("no-such-fn")


def test_who_is_the_configured_operator_else_the_os_user(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    aws.canary_function("who-fn")
    monkeypatch.setenv(OPERATOR_ENV, "on-call: bob")
    assert CanaryControl(aws.lambda_).rollback("who-fn").who == "on-call: bob"
    monkeypatch.delenv(OPERATOR_ENV)
    assert CanaryControl(aws.lambda_).rollback("who-fn").who != ""


def test_log_source_reads_per_version_samples_from_lambda_streams_in_the_window(aws: Aws) -> None:
    group = "/aws/lambda/logs-fn"
    aws.logs.create_log_group(logGroupName=group)
    now = datetime.now(UTC)
    v1 = [line for n in range(3) for line in invocation_lines(f"a{n}", 10.0 + n, failed=False)]
    v2 = [line for n in range(2) for line in invocation_lines(f"b{n}", 20.0, failed=n == 1)]
    # Two environments of version 1: one ran the first invocation, the other the next two.
    lambda_stream(aws, group, "1", "aaaa", v1[:3], now - timedelta(minutes=5))
    lambda_stream(aws, group, "1", "bbbb", v1[3:], now - timedelta(minutes=4))
    lambda_stream(aws, group, "2", "cccc", v2, now - timedelta(minutes=3))
    lambda_stream(aws, group, "2", "old0", invocation_lines("z", 99.0, True), now - timedelta(hours=3))
    lambda_stream(aws, group, "3", "dddd", invocation_lines("c", 5.0, False), now - timedelta(minutes=2))

    found = LogReportSource(aws.logs, "logs-fn").samples(["1", "2"], now - timedelta(minutes=30), now)

    assert set(found) == {"1", "2"}
    assert (found["1"].invocations, found["1"].errors) == (3, 0)
    assert sorted(found["1"].samples[DURATION_MS]) == [10.0, 11.0, 12.0]
    assert (found["2"].invocations, found["2"].errors) == (2, 1)
    assert sorted(found["2"].samples[ERROR_RATE]) == [0.0, 1.0]


def test_log_source_without_a_log_group_has_no_samples(aws: Aws) -> None:
    now = datetime.now(UTC)
    found = LogReportSource(aws.logs, "never-ran").samples(["1", "2"], now - timedelta(hours=1), now)
    assert {v: s.invocations for v, s in found.items()} == {"1": 0, "2": 0}


def test_metric_source_reads_per_period_samples_per_version_from_emf_shaped_metrics(aws: Aws) -> None:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    periods = [end - timedelta(minutes=n) for n in range(6, 0, -1)]

    def datum(
        name: str,
        version: str,
        at: datetime,
        value: float,
        unit: StandardUnitType = "Count",
        service: bool = True,
    ) -> MetricDatumTypeDef:
        dimensions: list[DimensionTypeDef] = [{"Name": "version", "Value": version}]
        if service:
            dimensions.append({"Name": "service", "Value": "customers"})
        return {"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Value": value, "Unit": unit}

    data: list[MetricDatumTypeDef] = []
    for at in periods:
        data += [datum("Invocations", "1", at, 95), datum("Errors", "1", at, 1)]
        data += [datum("Duration", "1", at, 40.0, "Milliseconds")]
        data += [datum("Invocations", "2", at, 5), datum("Errors", "2", at, 1)]
        data += [datum("Duration", "2", at, 80.0, "Milliseconds")]
    # Another service's version 2 must not be counted.
    data.append(datum("Invocations", "2", periods[0], 1000, service=False))
    aws.cloudwatch.put_metric_data(Namespace="sagawatch-test", MetricData=data)

    source = CloudWatchMetricSource(aws.cloudwatch, emf_metric_names("sagawatch-test", "customers"))
    found = source.samples(["1", "2"], end - timedelta(minutes=10), end)

    assert (found["1"].invocations, found["1"].errors) == (570, 6)
    assert (found["2"].invocations, found["2"].errors) == (30, 6)
    assert found["2"].samples[ERROR_RATE] == [0.2] * 6
    assert found["1"].samples[DURATION_MS] == [40.0] * 6
    assert "compensation_rate" not in found["2"].samples  # no version emitted the metric
