"""LocalInvoker over the wire: functions made in moto's Lambda API, handlers run in worker processes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from instrumented_app.runtime.invoker import LocalInvoker
from tests.unit.runtime.test_invoker_harness import REGION, MotoStack, moto_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[MotoStack]:
    with moto_stack() as running:
        yield running


@pytest.fixture
def invoker(stack: MotoStack) -> Iterator[LocalInvoker]:
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION) as running:
        yield running


def test_invoke_returns_the_handlers_value_and_a_lambda_context(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.echo", timeout=7, memory=256)

    result = invoker.invoke(name, {"order_id": 42})

    assert result.ok and result.error is None
    assert result.function_name == name and result.version == "$LATEST"
    body = result.payload
    assert body["event"] == {"order_id": 42}
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
    assert body["memory_limit_in_mb"] == 256
    assert body["aws_request_id"] == result.request_id
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert 0 < body["remaining_ms"] <= 7000
    # Handler boto3 clients reach moto unchanged.
    assert body["endpoint"] == stack.endpoint
    assert result.log_lines == ("echo called with {'order_id': 42}",)


def test_a_handler_exception_is_reported_as_lambda_reports_it(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.fail")

    result = invoker.invoke(name, {"order_id": 7})

    assert not result.ok and result.payload is None
    assert result.error is not None
    assert result.error.error_type == "ValueError"
    assert result.error.error_message == "order 7 is not payable"
    assert any("in fail" in frame for frame in result.error.stack_trace)
    assert not any("worker.py" in frame for frame in result.error.stack_trace)
    assert result.log_lines[0] == "about to fail"
    assert result.log_lines[1].startswith("[ERROR] ValueError: order 7 is not payable\rTraceback")


def test_a_timeout_kills_the_environment_and_the_next_call_starts_a_new_one(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.pause", timeout=1)
    first_pid = invoker.invoke(name, {"seconds": 0}).payload

    timed_out = invoker.invoke(name, {"seconds": 30})

    assert timed_out.error is not None
    assert timed_out.error.error_type == "Sandbox.Timedout"
    assert timed_out.error.error_message.endswith("Task timed out after 1.00 seconds")
    assert timed_out.duration_ms >= 1000
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)  # the worker that hung is gone, as Lambda discards the sandbox
    again = invoker.invoke(name, {"seconds": 0})
    assert again.ok and again.payload != first_pid


def test_a_worker_crash_is_a_runtime_exit_error(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("sample.crash")

    result = invoker.invoke(name, {})

    assert result.error is not None
    assert result.error.error_type == "Runtime.ExitError"
    assert result.error.error_message.endswith("Runtime exited with error: exit status 3")
    assert result.log_lines == ("crashing",)


def test_a_value_that_is_not_json_is_a_marshal_error(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("sample.unmarshalable")

    result = invoker.invoke(name, {})

    assert result.error is not None
    assert result.error.error_type == "Runtime.MarshalError"
    assert "not JSON serializable" in result.error.error_message


def test_a_module_that_cannot_import_is_an_import_module_error(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("broken_import.handler")

    result = invoker.invoke(name, {})

    assert result.error is not None
    assert result.error.error_type == "Runtime.ImportModuleError"
    assert "a_module_that_is_not_installed" in result.error.error_message


def test_a_missing_handler_attribute_is_handler_not_found(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("sample.no_such_handler")

    result = invoker.invoke(name, {})

    assert result.error is not None and result.error.error_type == "Runtime.HandlerNotFound"


def test_each_function_sees_only_its_own_environment_variables(
    stack: MotoStack, invoker: LocalInvoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGAWATCH_TEST_PARENT_ONLY", "the parent's secret")
    hello = stack.create_function("sample.echo", env={"GREETING": "hello"})
    bonjour = stack.create_function("sample.echo", env={"GREETING": "bonjour"})

    first = invoker.invoke(hello, {}).payload
    second = invoker.invoke(bonjour, {}).payload

    assert (first["greeting"], second["greeting"]) == ("hello", "bonjour")
    assert first["pid"] != second["pid"]
    assert first["parent_only"] is None and second["parent_only"] is None


def test_a_warm_environment_keeps_module_state_between_calls(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("sample.echo")

    answers = [invoker.invoke(name, {"n": n}).payload for n in range(3)]

    assert [a["calls"] for a in answers] == [1, 2, 3]
    assert len({a["pid"] for a in answers}) == 1
    assert len({a["log_stream_name"] for a in answers}) == 1


def test_concurrent_calls_get_their_own_environments_up_to_the_limit(stack: MotoStack) -> None:
    name = stack.create_function("sample.pause")
    with (
        LocalInvoker(aws_endpoint=stack.endpoint, region=REGION, max_environments=2) as invoker,
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        results = list(pool.map(lambda _: invoker.invoke(name, {"seconds": 0.4}), range(4)))

    assert all(r.ok for r in results)
    assert len({r.payload for r in results}) == 2


def test_an_unknown_function_raises_lookup_error(invoker: LocalInvoker) -> None:
    with pytest.raises(LookupError):
        invoker.invoke("no-such-function", {})


def test_an_event_that_is_not_json_is_refused_with_the_field_named(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.echo")

    with pytest.raises(ValueError, match="event: not JSON-serialisable"):
        invoker.invoke(name, {"when": object()})


def test_a_published_version_keeps_the_configuration_it_was_published_with(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.echo", env={"GREETING": "v1"})
    lam = stack.client("lambda")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "latest"}})
    invoker.refresh(name)

    published = invoker.invoke(name, {}, qualifier=version)
    latest = invoker.invoke(name, {})
    by_arn = invoker.invoke(f"arn:aws:lambda:{REGION}:123456789012:function:{name}:{version}", {})

    assert (published.version, published.payload["greeting"]) == (version, "v1")
    assert (latest.version, latest.payload["greeting"]) == ("$LATEST", "latest")
    assert by_arn.payload["greeting"] == "v1"
    assert published.payload["invoked_function_arn"].endswith(f":{name}:{version}")


def test_a_changed_configuration_replaces_warm_environments_after_refresh(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.echo", env={"GREETING": "before"})
    before = invoker.invoke(name, {}).payload
    stack.client("lambda").update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "after"}}
    )

    cached = invoker.invoke(name, {}).payload
    invoker.refresh(name)
    after = invoker.invoke(name, {}).payload

    assert cached["greeting"] == "before"  # cached until refreshed, as documented
    assert after["greeting"] == "after" and after["pid"] != before["pid"]


def test_workers_get_the_variables_the_lambda_service_sets(stack: MotoStack) -> None:
    name = stack.create_function("sample.environ", memory=512, env={"TABLE_NAME": "orders"})
    with LocalInvoker(
        aws_endpoint=stack.endpoint,
        region=REGION,
        otlp_endpoint="http://127.0.0.1:4318",
        extra_env={"SAGAWATCH_STAGE": "local"},
    ) as invoker:
        env = invoker.invoke(name, {}).payload

    assert env["TABLE_NAME"] == "orders"
    assert env["_HANDLER"] == "tests.unit.runtime.handlers.sample.environ"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert (
        env["AWS_LAMBDA_LOG_STREAM_NAME"].startswith(("20", "21"))
        and "[$LATEST]" in env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == (REGION, REGION)
    assert env["AWS_ENDPOINT_URL"] == stack.endpoint
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert env["SAGAWATCH_STAGE"] == "local"


def test_without_an_otlp_endpoint_no_exporter_variable_is_set(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.environ")

    env = invoker.invoke(name, {}).payload

    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env


WORKER_ORPHAN_SCRIPT = """
import os, sys, threading, time
from instrumented_app.runtime.environment import ExecutionEnvironment
from instrumented_app.runtime.types import FunctionSpec
spec = FunctionSpec(name="orphan", handler="tests.unit.runtime.handlers.sample.pause", timeout_s=60)
variables = {"PATH": os.environ["PATH"], "PYTHONPATH": sys.argv[1], "_HANDLER": spec.handler}
env = ExecutionEnvironment(spec, "$LATEST", variables, "s")
assert env.start().error is None
# The worker is busy in the handler (60 s) when this parent dies.
busy = threading.Thread(target=env.invoke, args=("r1", '{"seconds": 60}', "arn", time.monotonic() + 60))
busy.start()
time.sleep(0.3)
print(env._process.pid, flush=True)
os._exit(0)  # die without closing anything, as a killed parent does
"""


def test_a_busy_worker_exits_when_its_parent_dies_abruptly() -> None:
    import subprocess
    import sys
    import time

    from instrumented_app.runtime.environment import parent_python_path

    parent = subprocess.run(
        [sys.executable, "-c", WORKER_ORPHAN_SCRIPT, parent_python_path()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    worker_pid = int(parent.stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker_pid, 9)
    raise AssertionError("the worker outlived its parent by more than 10 s")


def test_powertools_logger_reads_the_context_and_its_lines_are_captured(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("powertools_logger.handler", memory=192)

    first = invoker.invoke(name, {"order_id": "o-1"})
    second = invoker.invoke(name, {"order_id": "o-2"})

    assert [len(r.log_lines) for r in (first, second)] == [1, 1]  # no second copy via the root logger
    lines = [json.loads(r.log_lines[0]) for r in (first, second)]
    assert [line["function_request_id"] for line in lines] == [first.request_id, second.request_id]
    assert [line["cold_start"] for line in lines] == [True, False]
    assert {line["function_name"] for line in lines} == {name}
    assert {line["function_memory_size"] for line in lines} == {192}
    assert lines[0]["function_arn"].endswith(f":function:{name}")
    assert (lines[0]["message"], lines[0]["order_id"], lines[0]["service"]) == (
        "order received",
        "o-1",
        "orders",
    )


def test_payloads_over_lambdas_six_megabytes_are_refused_both_ways(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    echo = stack.create_function("sample.echo")
    huge = stack.create_function("sample.huge")

    too_big_request = invoker.invoke(echo, {"blob": "x" * (7 * 1024 * 1024)})
    too_big_response = invoker.invoke(huge, {})

    assert too_big_request.error is not None
    assert too_big_request.error.error_type == "RequestEntityTooLargeException"
    assert too_big_response.error is not None
    assert too_big_response.error.error_type == "Function.ResponseSizeTooLarge"
    assert invoker.invoke(echo, {"n": 1}).payload["calls"] == 1  # the oversized request never ran


def test_an_unknown_version_or_alias_raises_lookup_error(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("sample.echo")

    with pytest.raises(LookupError):
        invoker.invoke(name, {}, qualifier="99")
    with pytest.raises(LookupError):
        invoker.invoke(name, {}, qualifier="no-such-alias")


def test_plain_logging_is_formatted_as_lambdas_python_runtime_does(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.uses_logging")

    result = invoker.invoke(name, {"sku": "A-1"})

    (line,) = result.log_lines
    assert re.fullmatch(
        rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{result.request_id}\tlow stock for A-1",
        line,
    )


def test_stdout_looks_like_a_utf8_text_stream_that_is_not_a_terminal(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.stream_facts")

    assert invoker.invoke(name, {}).payload == {"encoding": "utf-8", "isatty": False, "writable": True}
