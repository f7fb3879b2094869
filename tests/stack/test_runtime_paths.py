"""Every path of the local Lambda runtime, over the wire, on a fixture app.

The fixture template (``tests/stack/fixtures/runtime_template.yaml``) declares
one small function per path; the runtime provisions it into a real moto server
and serves it. What is asserted is what a client or an operator would see: HTTP
answers, CloudWatch Logs lines, queue contents, table rows, execution states.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from instrumented_app.runtime.local import LocalRuntime
from sagawatch.stack.aws import MotoServer
from tests.polling import eventually

pytestmark = pytest.mark.slow

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "runtime_template.yaml"
REGION = "us-east-1"


class Stack:
    def __init__(self, runtime: LocalRuntime, aws_endpoint: str) -> None:
        self.runtime = runtime
        self.api = runtime.main_api
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.sqs = session.client("sqs", endpoint_url=aws_endpoint)
        self.logs = session.client("logs", endpoint_url=aws_endpoint)
        self.dynamodb = session.client("dynamodb", endpoint_url=aws_endpoint)
        self.sfn = session.client("stepfunctions", endpoint_url=aws_endpoint)

    def log_messages(self, function_name: str) -> list[str]:
        """Every line CloudWatch Logs holds for the function, after the runtime shipped what it had."""
        self.runtime.invoker.flush()
        group = f"/aws/lambda/{function_name}"
        try:
            pages = self.logs.get_paginator("filter_log_events").paginate(logGroupName=group)
            return [event["message"] for page in pages for event in page["events"]]
        except self.logs.exceptions.ResourceNotFoundException:
            return []

    def invocations(self, function_name: str) -> int:
        return sum(
            1 for message in self.log_messages(function_name) if message.startswith("START RequestId:")
        )

    def queue_url(self, name: str) -> str:
        return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(
        aws_endpoint=endpoint, region=REGION, otlp_endpoint=None, template_path=FIXTURE_TEMPLATE
    )
    try:
        runtime.start()
        yield Stack(runtime, endpoint)
    finally:
        runtime.stop()
        moto.reset()
        moto.stop()


def test_api_front_delivers_a_proxy_event_to_the_handler_and_its_logs_reach_cloudwatch(stack: Stack) -> None:
    response = httpx.get(
        f"{stack.api}/echo", params={"cust_no": "C0001"}, headers={"X-Correlation-Id": "rt-1"}
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["path"] == "/echo"
    assert seen["method"] == "GET"
    assert seen["query"] == {"cust_no": "C0001"}
    assert seen["function_name"] == "fx-echo"
    assert response.headers["x-correlation-id"] == "rt-1"
    messages = stack.log_messages("fx-echo")
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") and "Duration:" in m for m in messages)


def test_an_invalid_request_gets_400_naming_the_field_and_never_reaches_the_lambda(stack: Stack) -> None:
    before = stack.invocations("fx-echo")
    missing = httpx.post(f"{stack.api}/validated", json={"email": "a@example.com"})
    malformed = httpx.post(f"{stack.api}/validated", json={"cust_no": "nope"})
    no_param = httpx.get(f"{stack.api}/echo")
    assert missing.status_code == 400
    assert any(error["field"] == "cust_no" for error in missing.json()["errors"]), missing.text
    assert malformed.status_code == 400
    assert "cust_no" in malformed.text
    assert no_param.status_code == 400
    assert "cust_no" in no_param.text
    # A valid one does reach it, so the count below could have moved.
    assert httpx.post(f"{stack.api}/validated", json={"cust_no": "C1234"}).status_code == 200
    assert stack.invocations("fx-echo") == before + 1


def test_a_mock_route_answers_its_fixed_response_without_any_backend(stack: Stack) -> None:
    before = stack.invocations("fx-echo")
    response = httpx.get(f"{stack.api}/mock/status")
    assert response.status_code == 200
    assert response.json() == {"status": "mocked", "backend": "none"}
    assert stack.invocations("fx-echo") == before


def test_a_failed_sqs_record_alone_is_retried_and_lands_in_the_dlq_after_max_receive_count(
    stack: Stack,
) -> None:
    queue = stack.queue_url("fx-work")
    dlq = stack.queue_url("fx-work-dlq")
    bodies = [{"n": n, "fail": n == 3} for n in range(5)]
    stack.sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(b["n"]), "MessageBody": json.dumps(b)} for b in bodies]
    )

    def dead_letters() -> list[dict[str, Any]]:
        got = stack.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, AttributeNames=["All"])
        return list(got.get("Messages", []))

    dead = eventually(dead_letters, timeout_s=30)
    assert [json.loads(m["Body"]) for m in dead] == [{"n": 3, "fail": True}]
    # Received twice from fx-work (maxReceiveCount 2), and once more by this test from the DLQ.
    assert dead[0]["Attributes"]["ApproximateReceiveCount"] == "3"
    # The four good records were deleted after their first delivery: nothing is left to redeliver.
    left = stack.sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert left == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    # The failed record was handed over twice, every good record once. (How SQS splits the five
    # into receives is its own business: a receive may return fewer messages than are queued.)
    deliveries = Counter(
        json.loads(line)["delivered"]
        for line in stack.log_messages("fx-batch-worker")
        if line.startswith('{"delivered"')
    )
    assert deliveries == {0: 1, 1: 1, 2: 1, 3: 2, 4: 1}


def test_dynamodb_stream_changes_reach_the_handler(stack: Stack) -> None:
    stack.dynamodb.put_item(TableName="fx-source", Item={"pk": {"S": "item-1"}, "kind": {"S": "a"}})
    stack.dynamodb.update_item(
        TableName="fx-source",
        Key={"pk": {"S": "item-1"}},
        UpdateExpression="SET kind = :k",
        ExpressionAttributeValues={":k": {"S": "b"}},
    )
    stack.dynamodb.delete_item(TableName="fx-source", Key={"pk": {"S": "item-1"}})

    def seen() -> list[str]:
        items = stack.dynamodb.scan(TableName="fx-seen")["Items"]
        names = sorted(item["event_name"]["S"] for item in items)
        return names if len(names) >= 3 else []

    assert eventually(seen) == ["INSERT", "MODIFY", "REMOVE"]


def _execution(stack: Stack, payload: dict[str, Any]) -> dict[str, Any]:
    machines = stack.sfn.list_state_machines()["stateMachines"]
    arn = next(m["stateMachineArn"] for m in machines if m["name"] == "fx-retry-catch")
    # Named explicitly: moto 5.2.5 names an unnamed execution "None", so a second one would collide.
    execution = stack.sfn.start_execution(
        stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(payload)
    )["executionArn"]

    def finished() -> dict[str, Any] | None:
        described = stack.sfn.describe_execution(executionArn=execution)
        return dict(described) if described["status"] != "RUNNING" else None

    return eventually(finished, timeout_s=30)


def test_a_state_machine_with_a_failing_task_runs_its_catch_branch(stack: Stack) -> None:
    failed = _execution(stack, {"order": "o-1", "fail": True})
    assert failed["status"] == "FAILED"
    assert failed["error"] == "WorkFailed"
    history = stack.sfn.get_execution_history(executionArn=failed["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered == ["Work", "Compensate", "Failed"]
    # The real handler ran twice (Retry MaxAttempts 1), then the compensation once.
    assert stack.invocations("fx-step-compensate") == 1

    succeeded = _execution(stack, {"order": "o-2"})
    assert succeeded["status"] == "SUCCEEDED"
    assert json.loads(succeeded["output"]) == {"order": "o-2", "worked": True}, succeeded


def test_weighted_routing_splits_a_thousand_requests_as_the_alias_says(stack: Stack) -> None:
    versions: dict[str, int] = {}
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        for _ in range(1000):
            answer = client.get("/canary").json()
            versions[answer["version"]] = versions.get(answer["version"], 0) + 1
    assert set(versions) == {"1", "2"}
    share = versions["2"] / 1000
    assert 0.02 <= share <= 0.08, versions  # 5 % +- 3 points
