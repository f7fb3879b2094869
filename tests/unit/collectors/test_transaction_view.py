"""The transaction view orders what is known about a correlation id: timeline and span waterfall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.transaction.render import render_text, waterfall_lines
from collectors.transaction.view import build_transaction, waterfall_of

T0 = datetime(2026, 11, 24, 6, 0, 0, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def span(
    span_id: str, parent: str | None, start_ms: float, end_ms: float, trace: str = "t1", **extra: Any
) -> dict[str, Any]:
    return {
        "trace_id": trace,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": f"op-{span_id}",
        "service": "app",
        "start_time": at(start_ms),
        "end_time": at(end_ms),
        "duration_ms": end_ms - start_ms,
        "status_code": extra.get("status_code", "UNSET"),
    }


def log(ms: float, seq: int, message: str, **extra: Any) -> dict[str, Any]:
    row = {
        "ts": at(ms),
        "log_group": "/aws/lambda/f",
        "log_stream": "s",
        "seq": seq,
        "kind": "json",
        "function_name": "f",
        "level": "INFO",
        "message": message,
        "raw": message,
        "request_id": "r1",
        "error_code": None,
    }
    row.update(extra)
    return row


def test_waterfall_nests_children_under_parents_in_start_order() -> None:
    spans = [
        span("c2", "root", 30, 40),
        span("root", None, 0, 100),
        span("g1", "c1", 12, 15),
        span("c1", "root", 10, 20),
    ]
    nodes = waterfall_of(spans)
    assert [(n.span_id, n.depth) for n in nodes] == [("root", 0), ("c1", 1), ("g1", 2), ("c2", 1)]


def test_span_whose_parent_is_missing_is_a_root_and_cycles_end() -> None:
    spans = [span("orphan", "gone", 5, 6), span("a", "b", 0, 1), span("b", "a", 0, 1)]
    nodes = waterfall_of(spans)
    assert "orphan" in [n.span_id for n in nodes if n.depth == 0]
    assert len(nodes) == 1  # a and b only point at each other: no root reaches them, nothing loops


def test_separate_traces_keep_their_own_trees() -> None:
    nodes = waterfall_of([span("x", None, 50, 60, trace="t2"), span("y", None, 0, 10, trace="t1")])
    assert [(n.trace_id, n.span_id) for n in nodes] == [("t1", "y"), ("t2", "x")]


def test_timeline_orders_every_kind_by_time_with_stream_order_for_ties() -> None:
    transaction = build_transaction(
        "corr-1",
        sagas=[
            {
                "saga_id": "s1",
                "saga_type": "customer",
                "status": "FAILED",
                "started_at": at(1),
                "stuck": False,
            }
        ],
        steps=[{"saga_id": "s1", "seq": 0, "name": "aurora_row", "status": "SUCCEEDED", "started_at": at(2)}],
        spans=[span("root", None, 0, 100)],
        logs=[log(50, 2, "third"), log(50, 1, "second"), log(3, 0, "first")],
        invocations=[{"ts": at(99), "function_name": "f", "duration_ms": 98.0, "request_id": "r1"}],
        dlq_messages=[
            {"queue_name": "jobs-dlq", "message_id": "m1", "sent_at": at(200), "first_seen_at": at(300)}
        ],
    )
    assert [e.kind for e in transaction.timeline] == [
        "span",
        "saga",
        "step",
        "log",
        "log",
        "log",
        "invocation",
        "dlq",
    ]
    assert [e.summary for e in transaction.timeline if e.kind == "log"] == [
        "INFO first",
        "INFO second",
        "INFO third",
    ]
    assert not transaction.empty


def test_report_lines_appear_once_as_invocations() -> None:
    transaction = build_transaction(
        "c",
        logs=[log(10, 0, "REPORT RequestId: r1\tDuration: 2.00 ms", kind="platform")],
        invocations=[{"ts": at(10), "function_name": "f", "duration_ms": 2.0, "request_id": "r1"}],
    )
    assert [e.kind for e in transaction.timeline] == ["invocation"]


def test_nothing_known_is_empty_and_says_so() -> None:
    transaction = build_transaction("nobody")
    assert transaction.empty
    assert "nothing is known" in render_text(transaction)


def test_waterfall_bars_are_placed_and_scaled_on_the_trace_time_axis() -> None:
    nodes = waterfall_of([span("root", None, 0, 100), span("late", "root", 50, 100)])
    root_line, late_line = waterfall_lines(nodes, width=20)
    root_bar = root_line.split("|")[1]
    late_bar = late_line.split("|")[1]
    assert root_bar == "█" * 20
    assert late_bar == " " * 10 + "█" * 10
    assert late_line.split("|")[0].startswith("      op-late")  # indented one level under root


def test_rendering_marks_stuck_sagas_and_failed_steps() -> None:
    text = render_text(
        build_transaction(
            "c",
            sagas=[
                {
                    "saga_id": "s1",
                    "saga_type": "customer",
                    "status": "RUNNING",
                    "started_at": at(0),
                    "stuck": True,
                    "failed_state": None,
                }
            ],
            steps=[
                {
                    "saga_id": "s1",
                    "seq": 0,
                    "name": "support_user",
                    "status": "FAILED",
                    "started_at": at(1),
                    "error": "503",
                }
            ],
        )
    )
    assert "customer s1  RUNNING  STUCK" in text
    assert "support_user" in text and "FAILED  503" in text


def test_a_job_in_the_timeline_says_its_status_attempts_and_last_error() -> None:
    job = {
        "_table": "jobs", "_at": at(5), "job_id": "j1", "kind": "sync_member", "status": "FAILED",
        "retry_count": 3, "last_error": "MembershipError: 503",
    }  # fmt: skip
    other = {"_table": "reconcile_repair", "_at": at(9), "action": "recreate", "status": "done"}
    timeline = build_transaction(
        "c1", related=[job, {**job, "_at": at(7), "retry_count": 1, "last_error": None}, other]
    ).timeline
    assert [e.summary for e in timeline] == [
        "job sync_member FAILED, 3 failed attempts: MembershipError: 503",
        "job sync_member FAILED, 1 failed attempt",
        "reconcile_repair recreate done",
    ]
