"""Log events -> rows: contract lines, Lambda platform lines, plain text, malformed JSON and EMF shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import collectors.logs.parse as parse_module
from collectors.logs.parse import StreamContext, parse_event, parse_report

CTX = StreamContext.of("/aws/lambda/sw-orders", "2026/11/24/[7]0a1b2c3d")
TS = 1_764_000_000_123


def contract_line(**extra: object) -> str:
    line = {
        "level": "ERROR",
        "timestamp": "2026-11-24T06:00:00.123Z",
        "service": "orders",
        "function_name": "sw-orders",
        "function_request_id": "req-0001-aaaa",
        "message": "payment declined",
        "correlation_id": "corr-42",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "saga_id": "saga-9",
        "saga_type": "order",
        "saga_step": "ProcessPayment",
        "error_code": "PAYMENT_DECLINED",
    }
    line.update(extra)
    return json.dumps(line)


def test_stream_names_give_function_and_version() -> None:
    assert (CTX.function_name, CTX.function_version) == ("sw-orders", "7")
    latest = StreamContext.of("/aws/lambda/f", "2026/11/24/[$LATEST]ab")
    assert latest.function_version == "$LATEST"
    other = StreamContext.of("/custom/group", "stream")
    assert (other.function_name, other.function_version) == (None, None)


def test_contract_line_fields_become_columns() -> None:
    parsed = parse_event(CTX, 3, TS, contract_line())
    row = parsed.row
    assert parsed.problem is None and parsed.invocation is None
    assert row.kind == "json" and row.seq == 3
    assert row.ts == datetime(2025, 11, 24, 16, 0, 0, 123000, tzinfo=UTC)
    assert (row.level, row.function_name, row.function_version) == ("ERROR", "sw-orders", "7")
    assert (row.request_id, row.correlation_id, row.error_code) == (
        "req-0001-aaaa",
        "corr-42",
        "PAYMENT_DECLINED",
    )
    assert (row.saga_id, row.saga_type, row.saga_step) == ("saga-9", "order", "ProcessPayment")
    assert (row.trace_id, row.span_id) == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    assert row.message == "payment declined"
    assert row.raw == contract_line()


def test_structured_message_is_kept_as_json_text() -> None:
    row = parse_event(CTX, 0, TS, contract_line(message={"step": "x", "n": 2})).row
    assert json.loads(row.message or "") == {"step": "x", "n": 2}


def test_json_line_missing_contract_fields_is_kept_and_reported() -> None:
    parsed = parse_event(CTX, 0, TS, json.dumps({"level": "INFO", "message": "hi"}))
    assert parsed.row.kind == "json" and parsed.row.message == "hi"
    assert parsed.problem is not None and parsed.problem.kind == "log_contract"
    assert "correlation_id" in parsed.problem.detail and "trace_id" in parsed.problem.detail


def test_malformed_json_is_kept_raw_and_reported() -> None:
    parsed = parse_event(CTX, 0, TS, '{"level": "INFO", "message": ')
    assert parsed.row.kind == "text"
    assert parsed.row.raw == '{"level": "INFO", "message": '
    assert parsed.problem is not None and parsed.problem.kind == "malformed_json"


@pytest.mark.parametrize(
    "line", ['{"level": "INFO"} trailing words', '{"level": "INFO"}{"level": "INFO"}', "{"]
)
def test_a_line_that_is_json_and_more_is_malformed_but_kept(line: str) -> None:
    parsed = parse_event(CTX, 0, TS, line + "\n")
    assert (parsed.row.kind, parsed.row.raw) == ("text", line)
    assert parsed.problem is not None and parsed.problem.kind == "malformed_json"


def test_json_nested_too_deeply_to_decode_is_malformed_not_a_crash() -> None:
    line = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    parsed = parse_event(CTX, 0, TS, line)
    assert parsed.row.kind == "text" and parsed.row.raw == line
    assert parsed.problem is not None and parsed.problem.kind == "malformed_json"


def test_a_line_the_parser_trips_on_is_kept_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a check raises on a line nobody foresaw, the line is stored and its stream goes on."""

    def trips(_: object) -> None:
        raise TypeError("unforeseen")

    monkeypatch.setattr(parse_module, "check_emf", trips)
    parsed = parse_event(CTX, 3, TS, json.dumps(emf()))
    assert (parsed.row.kind, parsed.row.seq) == ("text", 3)
    assert parsed.problem is not None and parsed.problem.kind == "parse_failed"
    assert "TypeError: unforeseen" in parsed.problem.detail


def test_json_with_trailing_whitespace_is_parsed() -> None:
    parsed = parse_event(CTX, 0, TS, '{"level": "WARN", "message": "m"}  \r\n')
    assert (parsed.row.kind, parsed.row.level, parsed.row.message) == ("json", "WARN", "m")


def test_report_line_becomes_an_invocation() -> None:
    line = (
        "REPORT RequestId: 8f5c-11aa\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB"
        "\tMax Memory Used: 62 MB\tInit Duration: 373.02 ms\tStatus: error\tError Type: Runtime.ExitError"
    )
    parsed = parse_event(CTX, 5, TS, line)
    assert parsed.row.kind == "platform" and parsed.row.request_id == "8f5c-11aa"
    call = parsed.invocation
    assert call is not None
    assert (call.request_id, call.function_name, call.function_version) == ("8f5c-11aa", "sw-orders", "7")
    assert (call.duration_ms, call.billed_ms, call.memory_mb, call.max_memory_mb) == (12.34, 13.0, 256, 62)
    assert call.init_ms == 373.02
    assert (call.status, call.error_type) == ("error", "Runtime.ExitError")


def test_report_without_init_has_no_init_duration() -> None:
    fields = parse_report("REPORT RequestId: r1\tDuration: 1.00 ms\tBilled Duration: 1 ms")
    assert fields == {"REPORT RequestId": "r1", "Duration": "1.00 ms", "Billed Duration": "1 ms"}
    call = parse_event(CTX, 0, TS, "REPORT RequestId: r1\tDuration: 1.00 ms").invocation
    assert call is not None and call.init_ms is None and call.memory_mb is None


def test_report_figures_that_do_not_fit_their_columns_are_left_out() -> None:
    line = "REPORT RequestId: r1\tDuration: inf ms\tBilled Duration: nan ms\tMemory Size: 99999999999 MB"
    call = parse_event(CTX, 0, TS, line + "\tMax Memory Used: 62 MB\tInit Duration: : ms").invocation
    assert call is not None
    assert (call.duration_ms, call.billed_ms, call.memory_mb, call.max_memory_mb, call.init_ms) == (
        None, None, None, 62, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("line", "request_id"),
    [
        ("START RequestId: 0a-1b Version: $LATEST", "0a-1b"),
        ("END RequestId: 0a-1b", "0a-1b"),
        ("2026-11-24T06:00:00.000Z 0a-1b Task timed out after 3.00 seconds", "0a-1b"),
    ],
)
def test_platform_lines_carry_their_request_id(line: str, request_id: str) -> None:
    parsed = parse_event(CTX, 0, TS, line)
    assert parsed.row.kind == "platform" and parsed.row.request_id == request_id
    assert parsed.invocation is None and parsed.problem is None
    assert parsed.row.raw == line


def test_lambda_root_handler_line_gets_level_and_request_id() -> None:
    row = parse_event(CTX, 0, TS, "[WARNING]\t2026-11-24T06:00:00.000Z\t0a1b2c3d-4e5f\tdisk almost full").row
    assert (row.kind, row.level, row.request_id, row.message) == (
        "text",
        "WARNING",
        "0a1b2c3d-4e5f",
        "disk almost full",
    )


def test_an_unhandled_exception_line_is_an_error_without_a_made_up_request_id() -> None:
    line = (
        "[ERROR] InjectedDefect: injected defect (version 2)\nTraceback (most recent call last):\n"
        '  File "/var/task/handler.py", line 3, in handler\n'
    )
    row = parse_event(CTX, 0, TS, line).row
    assert (row.kind, row.level, row.request_id, row.message) == (
        "text",
        "ERROR",
        None,
        "InjectedDefect: injected defect (version 2)",
    )


def test_a_space_separated_bracket_line_is_not_read_as_the_root_handlers() -> None:
    row = parse_event(CTX, 0, TS, "[INFO] loaded 0a1b2c3d-4e5f items fine").row
    assert (row.level, row.request_id) == (None, None)


def test_plain_print_is_kept_as_text() -> None:
    parsed = parse_event(CTX, 0, TS, "hello from print\n")
    assert parsed.row.kind == "text" and parsed.row.raw == "hello from print" and parsed.problem is None


def test_nul_characters_do_not_reach_the_store() -> None:
    assert "\x00" not in parse_event(CTX, 0, TS, "a\x00b").row.raw


def emf(**overrides: object) -> dict[str, object]:
    blob: dict[str, object] = {
        "_aws": {
            "Timestamp": TS,
            "CloudWatchMetrics": [
                {
                    "Namespace": "sagawatch",
                    "Dimensions": [["service", "version"]],
                    "Metrics": [{"Name": "Orders", "Unit": "Count"}],
                }
            ],
        },
        "service": "orders",
        "version": "7",
        "Orders": 1,
    }
    blob.update(overrides)
    return blob


def test_valid_emf_is_stored_without_problem() -> None:
    parsed = parse_event(CTX, 0, TS, json.dumps(emf()))
    assert parsed.row.kind == "emf" and parsed.problem is None


@pytest.mark.parametrize(
    ("blob", "named"),
    [
        (emf(Orders="many"), "Orders"),
        (emf(version=None), "version"),
        (emf(_aws={"Timestamp": "yesterday", "CloudWatchMetrics": []}), "_aws.Timestamp"),
        (emf(_aws={"Timestamp": TS, "CloudWatchMetrics": "x"}), "_aws.CloudWatchMetrics"),
        (
            emf(
                _aws={
                    "Timestamp": TS,
                    "CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [], "Metrics": [{}]}],
                }
            ),
            "Metrics.0.Name",
        ),
    ],
)
def test_emf_with_a_wrong_shape_is_reported_naming_the_field(blob: dict[str, object], named: str) -> None:
    parsed = parse_event(CTX, 0, TS, json.dumps(blob))
    assert parsed.row.kind == "emf"
    assert parsed.problem is not None and parsed.problem.kind == "emf_shape"
    assert named in parsed.problem.detail
