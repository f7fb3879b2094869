"""The live inventory read from moto's AWS APIs over HTTP: what the standard set is built from."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from alarms.inventory import _dead_letter_targets, read_inventory
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer

REGION = "us-east-1"


@pytest.fixture
def aws() -> Iterator[tuple[Any, str]]:
    server = MotoServer("127.0.0.1", 0)
    endpoint = server.start()
    server.reset()
    yield aws_session(REGION, endpoint), endpoint
    server.reset()
    server.stop()


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_functions_canaries_dlqs_and_apis_come_from_the_aws_apis(aws: tuple[Any, str]) -> None:
    session, endpoint = aws
    lam, iam = session.client("lambda", endpoint_url=endpoint), session.client("iam", endpoint_url=endpoint)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in ("sw-stable", "sw-canary"):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code()},
        )
    version = lam.publish_version(FunctionName="sw-canary")["Version"]
    lam.publish_version(FunctionName="sw-canary")
    lam.create_alias(
        FunctionName="sw-canary",
        Name="live",
        FunctionVersion=version,
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.05}},
    )
    logs = session.client("logs", endpoint_url=endpoint)
    logs.create_log_group(logGroupName="/aws/lambda/sw-only-logs")
    logs.create_log_group(logGroupName="/ecs/not-a-function")
    sqs = session.client("sqs", endpoint_url=endpoint)
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    sqs.create_queue(QueueName="work", Attributes={"RedrivePolicy": policy})
    sqs.create_queue(QueueName="plain")
    # Dead-letter targets named elsewhere: a schedule's and a rule target's.
    arns = {}
    for name in ("schedule-dlq", "rule-dlq"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    stable_arn = lam.get_function(FunctionName="sw-stable")["Configuration"]["FunctionArn"]
    session.client("scheduler", endpoint_url=endpoint).create_schedule(
        Name="nightly",
        ScheduleExpression="cron(30 2 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": stable_arn, "RoleArn": role, "DeadLetterConfig": {"Arn": arns["schedule-dlq"]}},
    )
    events = session.client("events", endpoint_url=endpoint)
    events.put_rule(Name="big-orders", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(
        Rule="big-orders",
        Targets=[{"Id": "1", "Arn": stable_arn, "DeadLetterConfig": {"Arn": arns["rule-dlq"]}}],
    )
    cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
    dims = [{"Name": "ApiName", "Value": "shop-api"}, {"Name": "Stage", "Value": "prod"}]
    cloudwatch.put_metric_data(
        Namespace="AWS/ApiGateway",
        MetricData=[
            {"MetricName": "5XXError", "Dimensions": dims, "Value": 0, "Timestamp": datetime.now(UTC)}
        ],
    )

    inventory = read_inventory(session, endpoint)
    assert inventory.functions == ("sw-canary", "sw-only-logs", "sw-stable")
    assert inventory.canary_functions == ("sw-canary",)
    assert inventory.dead_letter_queues == ("rule-dlq", "schedule-dlq", "work-dlq")
    assert inventory.apis == (("shop-api", "prod"),)


def test_a_functions_own_dead_letter_queue_counts_and_a_topic_does_not(aws: tuple[Any, str]) -> None:
    """Lambda's ``DeadLetterConfig`` (moto keeps none, so the configurations are given here)."""
    session, endpoint = aws
    configurations = [
        {"FunctionName": "a", "DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:a-dlq"}},
        {"FunctionName": "b", "DeadLetterConfig": {"TargetArn": "arn:aws:sns:us-east-1:123456789012:b-dlt"}},
        {"FunctionName": "c"},
    ]
    assert _dead_letter_targets(session, endpoint, configurations) == {"a-dlq"}
