"""``sagawatch alarms deploy | template | status`` as an operator runs them: the console script,
against a running stack's ``stack.json`` that points at a real moto server and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from alarms.actions.base import Transition
from alarms.described import alarm_from_description
from alarms.engine.cloudwatch import CloudWatchBackend
from alarms.evaluate.evaluator import Datapoint, evaluate_alarm
from alarms.evaluate.model import AlarmStateValue
from alarms.store import AlarmStore
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from sagawatch.stack.aws import MotoServer
from sagawatch.stack_info import StackInfo

SAGAWATCH = str(Path(sys.executable).parent / "sagawatch")
REGION = "us-east-1"


class Stack:
    def __init__(self, home: Path, info: StackInfo) -> None:
        self.home = home
        self.info = info
        session: Any = aws_session(REGION, info.aws_endpoint)
        self.logs = session.client("logs", endpoint_url=info.aws_endpoint)
        self.cloudwatch = session.client("cloudwatch", endpoint_url=info.aws_endpoint)
        self.sqs = session.client("sqs", endpoint_url=info.aws_endpoint)

    def run(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAWATCH_")}
        env.pop("AUDIT_DATABASE_URL", None)
        env["SAGAWATCH_HOME"] = str(self.home)
        env.update(extra_env)
        return subprocess.run(
            [SAGAWATCH, "alarms", *args], capture_output=True, text=True, timeout=120, check=False, env=env
        )


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer("127.0.0.1", 0)
    server.start()
    yield server
    server.reset()
    server.stop()


@pytest.fixture
def stack(moto: MotoServer, fresh_db_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A stack file naming this process (alive) and the test's moto and database."""
    moto.reset()
    info = StackInfo(
        pid=os.getpid(),
        started_at=datetime.now(UTC).isoformat(),
        region=REGION,
        aws_endpoint=moto.endpoint,
        api_endpoint="http://127.0.0.1:9",
        otlp_endpoint="http://127.0.0.1:9",
        aurora_url=fresh_db_url,
        audit_url=fresh_db_url,
    )
    info.write(tmp_path / "stack.json")
    stack = Stack(tmp_path, info)
    stack.logs.create_log_group(logGroupName="/aws/lambda/sw-orders")
    dlq = stack.sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = stack.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    stack.sqs.create_queue(
        QueueName="orders",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})},
    )
    yield stack
    moto.reset()


def test_deploy_puts_the_standard_set_for_what_is_deployed_and_twice_changes_nothing(stack: Stack) -> None:
    first = stack.run("deploy")
    assert first.returncode == 0, first.stderr
    assert "put 1 metric filters and 5 alarms" in first.stdout
    names = sorted(a["AlarmName"] for a in stack.cloudwatch.describe_alarms()["MetricAlarms"])
    assert names == [
        "sagawatch-dlq-age-orders-dlq",
        "sagawatch-dlq-depth-orders-dlq",
        "sagawatch-drift-findings",
        "sagawatch-errors-sw-orders",
        "sagawatch-stuck-sagas",
    ]
    (metric_filter,) = stack.logs.describe_metric_filters()["metricFilters"]
    assert metric_filter["filterPattern"] == '{ $.level = "ERROR" }'

    second = stack.run("deploy")
    assert second.returncode == 0, second.stderr
    assert len(stack.cloudwatch.describe_alarms()["MetricAlarms"]) == 5
    assert len(stack.logs.describe_metric_filters()["metricFilters"]) == 1


def test_dry_run_prints_the_requests_and_puts_nothing(stack: Stack) -> None:
    result = stack.run("deploy", "--dry-run")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert [f["logGroupName"] for f in printed["metricFilters"]] == ["/aws/lambda/sw-orders"]
    assert printed["alarms"][0]["AlarmActions"] == [f"arn:aws:sns:{REGION}:123456789012:sagawatch-alarms"]
    assert stack.cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_template_prints_resources_for_the_live_inventory(stack: Stack) -> None:
    result = stack.run("template")
    assert result.returncode == 0, result.stderr
    resources = yaml.safe_load(result.stdout)["Resources"]
    assert resources["MetricFilterErrorsSwOrders"]["Properties"]["LogGroupName"] == "/aws/lambda/sw-orders"
    assert resources["AlarmSagawatchDlqDepthOrdersDlq"]["Properties"]["Dimensions"] == [
        {"Name": "QueueName", "Value": "orders-dlq"}
    ]


def test_status_reads_cloudwatch_when_the_store_has_no_alarm_tables(stack: Stack) -> None:
    assert stack.run("deploy").returncode == 0
    result = stack.run("status", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["alarm"] for r in rows} >= {"sagawatch-errors-sw-orders", "sagawatch-stuck-sagas"}
    # moto creates alarms in OK; CloudWatch in INSUFFICIENT_DATA, which is what an operator is shown
    assert {r["state"] for r in rows} == {"INSUFFICIENT_DATA"}
    assert {r["last_change"] for r in rows} == {None}
    assert "audit store not read" in result.stderr


def test_without_a_stack_deploy_says_how_to_get_one(tmp_path: Path) -> None:
    stack = Stack.__new__(Stack)
    stack.home = tmp_path
    result = stack.run("deploy")
    assert result.returncode == 2
    assert "no stack is running" in result.stderr and "--aws" in result.stderr


def test_template_with_explicit_names_needs_no_stack_and_checks_api_names(tmp_path: Path) -> None:
    stack = Stack.__new__(Stack)
    stack.home = tmp_path
    good = stack.run("template", "--function", "sw-a", "--api", "sagawatch-app-api:v1")
    assert good.returncode == 0, good.stderr
    assert "AlarmSagawatchApi5xxSagawatchAppApiV1" in yaml.safe_load(good.stdout)["Resources"]
    bad = stack.run("template", "--api", "sagawatch-app-api")
    assert bad.returncode == 2
    assert "--api 'sagawatch-app-api': expected NAME:STAGE" in bad.stderr


def test_a_second_deploy_leaves_an_alarm_in_alarm(stack: Stack) -> None:
    assert stack.run("deploy").returncode == 0
    stack.cloudwatch.set_alarm_state(
        AlarmName="sagawatch-stuck-sagas", StateValue="ALARM", StateReason="3 stuck sagas"
    )
    assert stack.run("deploy").returncode == 0
    (alarm,) = stack.cloudwatch.describe_alarms(AlarmNames=["sagawatch-stuck-sagas"])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "3 stuck sagas")


def test_status_shows_cloudwatchs_state_and_reason_and_the_last_change_the_store_recorded(
    stack: Stack,
) -> None:
    assert stack.run("deploy").returncode == 0
    apply_migrations(stack.info.audit_url, "alarms.schema")
    (described,) = stack.cloudwatch.describe_alarms(AlarmNames=["sagawatch-errors-sw-orders"])["MetricAlarms"]
    alarm = alarm_from_description(described)
    now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    state = evaluate_alarm(
        alarm, [Datapoint(timestamp=now - timedelta(seconds=30), value=4)], now, AlarmStateValue.OK
    )
    CloudWatchBackend(stack.cloudwatch, stack.logs).set_state(state)  # as the engine does on a change
    AlarmStore(stack.info.audit_url).record(Transition(alarm, state))

    result = stack.run("status")
    assert result.returncode == 0, result.stderr
    assert "ALARM             sagawatch-errors-sw-orders  (since " in result.stdout
    assert "    Threshold Crossed: 1 datapoint [4.0 (24/11/26 05:59:00)]" in result.stdout
    assert "    last change: OK -> ALARM at 2026-11-24T06:00:00+00:00" in result.stdout
    rows = {r["alarm"]: r for r in json.loads(stack.run("status", "--json").stdout)}
    assert rows["sagawatch-errors-sw-orders"]["last_change"]["reason"] == state.StateReason
    assert rows["sagawatch-stuck-sagas"]["last_change"] is None


def test_a_bad_alarm_setting_is_named_with_its_variable(tmp_path: Path) -> None:
    stack = Stack.__new__(Stack)
    stack.home = tmp_path
    result = stack.run("template", "--function", "sw-a", SAGAWATCH_ALARMS_PERIOD_S="45")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: SAGAWATCH_ALARMS_PERIOD_S: Value error, must be 10, 20, 30 or a multiple"
    )
    assert "Traceback" not in result.stderr
