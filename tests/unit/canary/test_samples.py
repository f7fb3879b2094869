"""Reading per-version samples out of what Lambda writes: log stream names, REPORT lines, metric periods."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from alarms.canary.metrics import (
    COMPENSATION_RATE,
    DURATION_MS,
    ERROR_RATE,
    per_period_samples,
    samples_from_invocations,
)
from alarms.canary.report_lines import invocations_in_stream, is_unhandled_error, stream_version


def report(request_id: str, ms: float, extra: str = "") -> str:
    return (
        f"REPORT RequestId: {request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {int(ms) + 1} ms"
        f"\tMemory Size: 128 MB\tMax Memory Used: 40 MB{extra}"
    )


def test_the_version_comes_from_lambdas_stream_name() -> None:
    assert stream_version("2026/11/24/[2]0123456789abcdef0123456789abcdef") == "2"
    assert stream_version("2026/11/24/[$LATEST]0123456789abcdef") == "$LATEST"
    assert stream_version("not-a-lambda-stream") is None


def test_each_invocation_is_read_from_start_to_report_with_its_failure() -> None:
    lines = [
        "START RequestId: a Version: 2",
        '{"level": "INFO", "message": "hello"}',
        "END RequestId: a",
        report("a", 12.5),
        "START RequestId: b Version: 2",
        "[ERROR] ValueError: boom\rTraceback (most recent call last):\r  File ...",
        "END RequestId: b",
        report("b", 3.25),
        "START RequestId: c Version: 2",
        "2026-11-24T06:00:00.000Z c Task timed out after 2.00 seconds",
        "END RequestId: c",
        report("c", 2000.0, "\tStatus: timeout"),
        "START RequestId: d Version: 2",
        "END RequestId: d",
        report("d", 1.0, "\tStatus: error\tError Type: Runtime.ExitError"),
        "START RequestId: e Version: 2",  # still running when the window closed: not counted
    ]

    found = list(invocations_in_stream(lines))

    assert [(i.request_id, i.duration_ms, i.failed) for i in found] == [
        ("a", 12.5, False),
        ("b", 3.25, True),
        ("c", 2000.0, True),
        ("d", 1.0, True),
    ]
    samples = samples_from_invocations("2", found)
    assert (samples.invocations, samples.errors) == (4, 3)
    assert samples.samples[ERROR_RATE] == [0.0, 1.0, 1.0, 1.0]
    assert samples.samples[DURATION_MS] == [12.5, 3.25, 2000.0, 1.0]


def test_lambdas_json_log_format_is_read_too() -> None:
    def platform(kind: str, **record: object) -> str:
        return json.dumps({"time": "2026-11-24T06:00:00.000Z", "type": kind, "record": record})

    lines = [
        platform("platform.start", requestId="a", version="2"),
        platform("platform.report", requestId="a", metrics={"durationMs": 8.5}, status="success"),
        platform("platform.start", requestId="b", version="2"),
        json.dumps({"level": "ERROR", "errorType": "KeyError", "errorMessage": "'cust_no'"}),
        platform("platform.report", requestId="b", metrics={"durationMs": 1.5}, status="success"),
        platform("platform.start", requestId="c", version="2"),
        platform("platform.report", requestId="c", metrics={"durationMs": 3000.0}, status="timeout"),
    ]

    found = [(i.request_id, i.duration_ms, i.failed) for i in invocations_in_stream(lines)]

    assert found == [("a", 8.5, False), ("b", 1.5, True), ("c", 3000.0, True)]


def test_a_report_without_its_start_is_not_an_invocation() -> None:
    assert list(invocations_in_stream([report("x", 5.0)])) == []


def test_a_logged_error_that_the_handler_handled_is_not_a_failed_invocation() -> None:
    assert not is_unhandled_error('{"level": "ERROR", "message": "saga step failed", "error_code": "E1"}')
    assert is_unhandled_error('{"errorType": "ValueError", "errorMessage": "boom", "stackTrace": []}')
    assert is_unhandled_error("[ERROR] KeyError: 'cust_no'")
    assert not is_unhandled_error('{"errorType": broken json')


def test_per_period_samples_are_rates_over_periods_with_invocations() -> None:
    t0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    minute = [t0 + timedelta(minutes=n) for n in range(4)]
    invocations = {minute[0]: 100.0, minute[1]: 50.0, minute[2]: 0.0, minute[3]: 20.0}
    errors = {minute[1]: 5.0, minute[3]: 2.0}
    durations = {minute[0]: 40.0, minute[1]: 42.0, minute[3]: 39.0}
    compensations = {minute[0]: 1.0}

    samples = per_period_samples("1", invocations, errors, durations, compensations)

    assert (samples.invocations, samples.errors) == (170, 7)
    assert samples.samples[ERROR_RATE] == [0.0, 0.1, 0.1]
    assert samples.samples[DURATION_MS] == [40.0, 42.0, 39.0]
    assert samples.samples[COMPENSATION_RATE] == [0.01, 0.0, 0.0]
    assert per_period_samples("1", invocations, errors, durations, None).samples.keys() == {
        ERROR_RATE,
        DURATION_MS,
    }
