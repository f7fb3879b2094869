"""The local evaluator against moto's server over HTTP and a real PostgreSQL audit store.

What is asserted is what an operator sees: ``describe_alarms`` in ALARM and back in OK, the SNS
notification in a subscribed queue, the transitions with their reasons in the audit store.
Time is passed to ``run_once`` explicitly (periods of 10 s, in the recent past), so the test does
not wait for the clock.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alarms.engine import AlarmEngine
from alarms.settings import AlarmSettings
from alarms.store import AlarmStore
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer
from sagawatch.stack_info import StackInfo

REGION = "us-east-1"
FUNCTION = "sw-wire-test"
GROUP = f"/aws/lambda/{FUNCTION}"
ALARM = f"sagawatch-errors-{FUNCTION}"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer("127.0.0.1", 0)
    server.start()
    yield server
    server.reset()
    server.stop()


@pytest.fixture
def stack(moto: MotoServer, fresh_db_url: str) -> Iterator[StackInfo]:
    moto.reset()
    yield StackInfo(
        pid=os.getpid(),
        started_at=datetime.now(UTC).isoformat(),
        region=REGION,
        aws_endpoint=moto.endpoint,
        api_endpoint="http://127.0.0.1:9",
        otlp_endpoint="http://127.0.0.1:9",
        aurora_url=fresh_db_url,
        audit_url=fresh_db_url,
    )
    moto.reset()


def client(info: StackInfo, service: str) -> Any:
    session: Any = aws_session(REGION, info.aws_endpoint)
    return session.client(service, endpoint_url=info.aws_endpoint)


def subscribed_queue(info: StackInfo, topic_name: str) -> str:
    sns, sqs = client(info, "sns"), client(info, "sqs")
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    url = sqs.create_queue(QueueName="alarm-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return str(url)


def notifications(info: StackInfo, url: str) -> list[dict[str, Any]]:
    sqs, found = client(info, "sqs"), []
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            envelope = json.loads(message["Body"])
            found.append({"Subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [n for n in found if n["AlarmName"] == ALARM]


def line(level: str, message: str) -> str:
    return json.dumps({"level": level, "message": message, "function_name": FUNCTION, "service": "wire"})


def test_error_lines_raise_the_alarm_everywhere_an_operator_looks_and_clean_lines_clear_it(
    stack: StackInfo,
) -> None:
    logs, cloudwatch = client(stack, "logs"), client(stack, "cloudwatch")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="2026/11/24/[$LATEST]abc")
    inbox = subscribed_queue(stack, "sagawatch-alarms")
    settings = AlarmSettings(period_s=10, log_metric_resolution_s=10, inventory_interval_s=0)
    engine = AlarmEngine(settings, stack)
    base = (int(time.time()) // 10 - 12) * 10  # a 10 s boundary two minutes ago
    at = lambda s: datetime.fromtimestamp(base + s, UTC)  # noqa: E731

    first = engine.run_once(at(2))  # deploys the standard set; nothing has happened yet
    assert not first.problems
    assert [
        (t.alarm.AlarmName, t.state.StateValue) for t in first.transitions if t.alarm.AlarmName == ALARM
    ] == [(ALARM, "OK")]

    events = [line("INFO", "start"), line("ERROR", "support 503"), line("ERROR", "support 503"), "plain text"]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="2026/11/24/[$LATEST]abc",
        logEvents=[{"timestamp": (base + 11) * 1000 + i, "message": m} for i, m in enumerate(events)],
    )
    raised = engine.run_once(at(22))
    assert not raised.problems
    assert raised.log_events == 4
    described = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert described["StateValue"] == "ALARM"
    assert (
        "[2.0 (" in described["StateReason"]
        and "greater than the threshold (0.0)" in described["StateReason"]
    )
    stats = cloudwatch.get_metric_statistics(
        Namespace="sagawatch/logs",
        MetricName=f"Errors-{FUNCTION}",
        StartTime=at(0),
        EndTime=at(30),
        Period=10,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in stats] == [(2.0, 4.0)]

    again = engine.run_once(at(25))  # same period, same verdict: no action fires twice
    assert [t for t in again.transitions if t.alarm.AlarmName == ALARM] == []

    logs.put_log_events(  # the function keeps running, without errors: its lines count 0
        logGroupName=GROUP,
        logStreamName="2026/11/24/[$LATEST]abc",
        logEvents=[{"timestamp": (base + 21) * 1000, "message": line("INFO", "ok")}],
    )
    cleared = engine.run_once(at(32))
    assert cleared.log_events == 1  # only what was ingested since the last pass
    assert [t.state.StateValue for t in cleared.transitions if t.alarm.AlarmName == ALARM] == ["OK"]
    assert cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"] == "OK"

    sent = notifications(stack, inbox)
    assert [(n["OldStateValue"], n["NewStateValue"]) for n in sent] == [
        ("INSUFFICIENT_DATA", "OK"),
        ("OK", "ALARM"),
        ("ALARM", "OK"),
    ]
    assert sent[1]["Subject"] == f'ALARM: "{ALARM}" in US East (N. Virginia)'
    assert sent[1]["Trigger"]["MetricName"] == f"Errors-{FUNCTION}"
    assert sent[1]["Trigger"]["Statistic"] == "SUM"

    history = list(reversed(AlarmStore(stack.audit_url).transitions(ALARM)))
    assert [(h.old_state, h.new_state) for h in history] == [
        ("INSUFFICIENT_DATA", "OK"),
        ("OK", "ALARM"),
        ("ALARM", "OK"),
    ]
    assert history[1].reason == sent[1]["NewStateReason"]
    assert history[1].reason_data["recentDatapoints"] == [2.0]
    assert history[1].changed_at == at(22)
    current = {s.alarm_name: s for s in AlarmStore(stack.audit_url).states()}
    assert current[ALARM].state == "OK"


def test_a_message_in_a_dead_letter_queue_raises_its_depth_and_age_alarms(stack: StackInfo) -> None:
    sqs, cloudwatch = client(stack, "sqs"), client(stack, "cloudwatch")
    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName="jobs",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})},
    )
    engine = AlarmEngine(AlarmSettings(period_s=10, inventory_interval_s=0, dlq_age_threshold_s=5), stack)
    now = datetime.now(UTC)
    assert not engine.run_once(now).problems  # publishes depth 0: OK

    sqs.send_message(QueueUrl=dlq, MessageBody='{"job_id": "j-1"}')
    # SQS's metric is sampled each pass; the alarm judges the period that sample falls in
    engine.run_once(now + timedelta(seconds=10))
    report = engine.run_once(now + timedelta(seconds=20))
    names = {t.alarm.AlarmName: t.state.StateValue for t in report.transitions}
    assert names.get("sagawatch-dlq-depth-jobs-dlq") == "ALARM", report
    assert names.get("sagawatch-dlq-age-jobs-dlq") == "ALARM", report  # sampled 10 s after it was sent
    described = cloudwatch.describe_alarms(AlarmNames=["sagawatch-dlq-depth-jobs-dlq"])["MetricAlarms"][0]
    assert described["StateValue"] == "ALARM"
    assert "[1.0 (" in described["StateReason"]
