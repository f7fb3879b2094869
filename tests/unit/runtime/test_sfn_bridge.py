"""Step Functions in moto running real handlers through the bridge: results, Retry and Catch."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from instrumented_app.runtime.invoker import LocalInvoker
from instrumented_app.runtime.sfn_bridge import install_sfn_bridge
from tests.unit.runtime.test_invoker_harness import REGION, MotoStack, log_messages, moto_stack, wait_for


@pytest.fixture(scope="module")
def stack() -> Iterator[MotoStack]:
    with moto_stack() as running:
        yield running


@pytest.fixture
def bridged(stack: MotoStack) -> Iterator[LocalInvoker]:
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION) as invoker:
        uninstall = install_sfn_bridge(invoker)
        try:
            yield invoker
        finally:
            uninstall()


def _sent(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the test sent it. When OpenTelemetry's botocore instrumentation is active in this
    process (importing an instrumented handler turns it on), boto3 adds ``headers.traceparent`` to a
    Lambda payload, as it does on AWS; that is not the bridge's doing."""
    return {key: value for key, value in event.items() if key != "headers"}


def _arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:123456789012:function:{name}"


def _run(stack: MotoStack, definition: dict[str, Any], execution_input: dict[str, Any]) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"sm-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=stack.role_arn
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))[
        "executionArn"
    ]
    return wait_for(
        lambda: (found := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and found,
        timeout_s=30,
        what="the execution to finish",
    )


def test_a_task_that_succeeds_returns_the_handlers_output(stack: MotoStack, bridged: LocalInvoker) -> None:
    name = stack.create_function("sample.echo", env={"GREETING": "from the handler"})
    definition = {
        "StartAt": "Echo",
        "States": {"Echo": {"Type": "Task", "Resource": _arn(name), "End": True}},
    }

    execution = _run(stack, definition, {"order_id": "o-1"})

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert _sent(output["event"]) == {"order_id": "o-1"}
    assert output["greeting"] == "from the handler"


def test_a_failing_task_runs_its_catch_branch(stack: MotoStack, bridged: LocalInvoker) -> None:
    charge = stack.create_function("sample.fail")
    definition = {
        "StartAt": "ProcessPayment",
        "States": {
            "ProcessPayment": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": _arn(charge), "Payload.$": "$"},
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "RefundPayment"}],
                "End": True,
            },
            "RefundPayment": {
                "Type": "Pass",
                "Result": "refunded",
                "ResultPath": "$.compensation",
                "End": True,
            },
        },
    }

    execution = _run(stack, definition, {"order_id": 5})

    assert execution["status"] == "SUCCEEDED"
    output = json.loads(execution["output"])
    assert output["compensation"] == "refunded"
    assert output["error"]["Error"] == "ValueError"
    assert json.loads(output["error"]["Cause"])["errorMessage"] == "order 5 is not payable"


def test_retry_reruns_a_failed_task_with_the_real_handler(stack: MotoStack, bridged: LocalInvoker) -> None:
    flaky = stack.create_function("sample.flaky")
    definition = {
        "StartAt": "Charge",
        "States": {
            "Charge": {
                "Type": "Task",
                "Resource": _arn(flaky),
                "Retry": [{"ErrorEquals": ["ConnectionError"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "End": True,
            }
        },
    }

    execution = _run(stack, definition, {"amount": 30})

    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"charged": 30, "attempt": 2}


def test_an_uncaught_task_error_fails_the_execution_with_the_error_type(
    stack: MotoStack, bridged: LocalInvoker
) -> None:
    charge = stack.create_function("sample.fail")
    definition = {
        "StartAt": "Charge",
        "States": {"Charge": {"Type": "Task", "Resource": _arn(charge), "End": True}},
    }

    execution = _run(stack, definition, {"order_id": 1})

    assert execution["status"] == "FAILED"
    assert execution["error"] == "ValueError"


def test_a_plain_lambda_invoke_against_moto_runs_the_real_handler(
    stack: MotoStack, bridged: LocalInvoker
) -> None:
    lam = stack.client("lambda")
    ok = stack.create_function("sample.echo", env={"GREETING": "hi"})
    failing = stack.create_function("sample.fail")

    answer = lam.invoke(FunctionName=ok, Payload=json.dumps({"x": 1}), LogType="Tail")
    failed = lam.invoke(FunctionName=failing, Payload=json.dumps({"order_id": 3}))

    body = json.loads(answer["Payload"].read())
    assert (_sent(body["event"]), body["greeting"]) == ({"x": 1}, "hi")
    assert "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "echo called with {'x': 1" in base64.b64decode(answer["LogResult"]).decode()
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"


def test_an_event_invoke_runs_in_the_background(stack: MotoStack, bridged: LocalInvoker) -> None:
    name = stack.create_function("sample.echo")

    answer = stack.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"async": true}'
    )

    assert answer["StatusCode"] == 202
    bridged.flush()
    assert wait_for(
        lambda: any("echo called with {'async': True" in m for _, m in log_messages(stack, name)),
        what="the background invocation's log line",
    )


def test_uninstall_restores_moto_and_unknown_functions_still_get_lambdas_404(stack: MotoStack) -> None:
    lam = stack.client("lambda")
    name = stack.create_function("sample.fail")
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION) as invoker:
        uninstall = install_sfn_bridge(invoker)
        with pytest.raises(RuntimeError, match="already installed"):
            install_sfn_bridge(invoker)
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.invoke(FunctionName="no-such-function", Payload=b"{}")
        uninstall()

    answer = lam.invoke(FunctionName=name, Payload=b'{"order_id": 1}')

    assert "FunctionError" not in answer  # moto's own happy-path echo again, not the failing handler
    assert _sent(json.loads(answer["Payload"].read())) == {"order_id": 1}


def test_an_alias_invoked_through_moto_runs_the_version_it_points_at(
    stack: MotoStack, bridged: LocalInvoker
) -> None:
    lam = stack.client("lambda")
    name = stack.create_function("sample.echo", env={"GREETING": "one"})
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "latest"}})
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    answer = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")

    assert answer["ExecutedVersion"] == "1"
    assert json.loads(answer["Payload"].read())["greeting"] == "one"
