"""What an operator finds in CloudWatch after invocations: Lambda's log lines and EMF metrics."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from instrumented_app.runtime.invoker import LocalInvoker
from instrumented_app.runtime.logs import MAX_BYTES_PER_CALL, MAX_EVENTS_PER_CALL, LogEvent, batches
from tests.unit.runtime.test_invoker_harness import REGION, MotoStack, log_messages, moto_stack, wait_for

STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


@pytest.fixture(scope="module")
def stack() -> Iterator[MotoStack]:
    with moto_stack() as running:
        yield running


@pytest.fixture
def invoker(stack: MotoStack) -> Iterator[LocalInvoker]:
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION) as running:
        yield running


def _wait_for_lines(stack: MotoStack, name: str, count: int) -> list[tuple[str, str]]:
    def enough() -> list[tuple[str, str]] | None:
        found = log_messages(stack, name)
        return found if len(found) >= count else None

    lines = wait_for(enough, what=f"{count} log lines in /aws/lambda/{name}")
    assert lines is not None
    return lines


def test_invocations_leave_lambdas_platform_lines_in_the_functions_log_group(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    name = stack.create_function("sample.echo", memory=256)
    first = invoker.invoke(name, {"n": 1})
    second = invoker.invoke(name, {"n": 2})

    found = _wait_for_lines(stack, name, 9)

    streams = {stream for stream, _ in found}
    assert len(streams) == 1 and STREAM.match(streams.pop())
    messages = [message for _, message in found]
    assert messages[0] == "init: sample module imported"  # init output comes before the first START
    assert messages[1:5] == [
        f"START RequestId: {first.request_id} Version: $LATEST",
        "echo called with {'n': 1}",
        f"END RequestId: {first.request_id}",
        messages[4],
    ]
    cold_report, warm_report = messages[4], messages[8]
    assert re.fullmatch(
        rf"REPORT RequestId: {first.request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms"
        r"\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms",
        cold_report,
    )
    assert warm_report.startswith(f"REPORT RequestId: {second.request_id}\t")
    assert "Init Duration" not in warm_report


def test_log_lines_are_shipped_when_the_handler_fails_or_times_out(
    stack: MotoStack, invoker: LocalInvoker
) -> None:
    failing = stack.create_function("sample.fail")
    hanging = stack.create_function("sample.sleep", timeout=1)
    failed = invoker.invoke(failing, {"order_id": 9})
    timed_out = invoker.invoke(hanging, {"seconds": 30})

    failing_lines = [m for _, m in _wait_for_lines(stack, failing, 6)]
    hanging_lines = [m for _, m in _wait_for_lines(stack, hanging, 6)]

    assert "about to fail" in failing_lines
    assert any(m.startswith("[ERROR] ValueError: order 9 is not payable") for m in failing_lines)
    assert f"END RequestId: {failed.request_id}" in failing_lines
    assert "going to sleep" in hanging_lines
    assert any(m.endswith(f"{timed_out.request_id} Task timed out after 1.00 seconds") for m in hanging_lines)
    assert any(
        m.startswith(f"REPORT RequestId: {timed_out.request_id}") and "Status: timeout" in m
        for m in hanging_lines
    )


def test_line_timestamps_are_when_each_line_was_written(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("sample.pause")
    invoker.invoke(name, {"seconds": 0.3})
    invoker.flush()

    events = stack.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    by_message = {e["message"].split(" ")[0]: e["timestamp"] for e in events}

    assert by_message["END"] - by_message["START"] >= 300


def test_powertools_metrics_become_cloudwatch_metrics(stack: MotoStack, invoker: LocalInvoker) -> None:
    namespace = f"Shop{uuid.uuid4().hex[:8]}"
    name = stack.create_function(
        "metrics.handler",
        env={"POWERTOOLS_METRICS_NAMESPACE": namespace, "POWERTOOLS_SERVICE_NAME": "orders"},
    )
    invoker.invoke(name, {"amounts": [100, 250]})
    invoker.invoke(name, {"amounts": [50]})
    invoker.flush()

    cloudwatch = stack.client("cloudwatch")
    dimensions = [{"Name": "version", "Value": "$LATEST"}, {"Name": "service", "Value": "orders"}]
    listed = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    stats = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="OrderAmount",
        Dimensions=dimensions,
        StartTime=datetime.now(UTC) - timedelta(minutes=5),
        EndTime=datetime.now(UTC) + timedelta(minutes=5),
        Period=600,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )["Datapoints"]

    assert {m["MetricName"] for m in listed} == {"OrderAmount", "OrdersPlaced"}
    assert len(stats) == 1
    assert (stats[0]["Sum"], stats[0]["SampleCount"], stats[0]["Maximum"]) == (400.0, 3.0, 250.0)
    assert invoker.metrics.malformed_blobs == 0


def test_batches_respect_put_log_events_limits_and_order() -> None:
    big = "x" * 100_000
    events = [LogEvent(1000 - i, big) for i in range(25)] + [LogEvent(5, "")]
    many = [LogEvent(i, "line") for i in range(MAX_EVENTS_PER_CALL + 1)]

    cut = list(batches(events))
    counted = list(batches(many))

    assert all(sum(len(e.message.encode()) + 26 for e in b) <= MAX_BYTES_PER_CALL for b in cut)
    assert sum(len(b) for b in cut) == 25  # the empty message is left out: the API refuses it
    flat = [e.timestamp_ms for b in cut for e in b]
    assert flat == sorted(flat)
    assert [len(b) for b in counted] == [MAX_EVENTS_PER_CALL, 1]


def test_an_oversized_line_is_truncated_not_lost() -> None:
    (batch,) = batches([LogEvent(1, "y" * 300_000)])

    assert batch[0].message.endswith("[truncated]")
    assert len(batch[0].message.encode()) + 26 <= 256 * 1024


def test_a_failed_init_is_logged_as_lambda_logs_it(stack: MotoStack, invoker: LocalInvoker) -> None:
    name = stack.create_function("broken_import.handler")

    result = invoker.invoke(name, {})
    messages = [m for _, m in _wait_for_lines(stack, name, 5)]

    assert result.log_lines and result.log_lines[0].startswith("[ERROR] Runtime.ImportModuleError: ")
    assert messages[0].startswith("[ERROR] Runtime.ImportModuleError: Unable to import module")
    assert re.fullmatch(
        r"INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error"
        r"\tError Type: Runtime.ImportModuleError",
        messages[1],
    )
    assert messages[2] == f"START RequestId: {result.request_id} Version: $LATEST"
    assert messages[-1].endswith("Status: error\tError Type: Runtime.ImportModuleError")
