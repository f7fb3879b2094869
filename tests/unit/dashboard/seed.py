"""Rows for the audit store, shaped as the collectors, alarms and reconciler write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from collectors.partitions import create_partition


def now() -> datetime:
    return datetime.now(UTC)


def insert(conn: psycopg.Connection[Any], table: str, **values: Any) -> None:
    """One row; dict/list values go in as JSON."""
    if table in {"log_lines", "invocations", "queue_samples", "metric_points"}:
        ts_column = {"queue_samples": "sampled_at"}.get(table, "ts")
        create_partition(conn, table, values[ts_column].date())
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    params = [json.dumps(v) if isinstance(v, dict | list) else v for v in values.values()]
    conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})".encode(), params)


def saga(
    conn: psycopg.Connection[Any],
    saga_id: str,
    *,
    status: str = "RUNNING",
    idle_s: float = 10,
    stuck: bool = False,
    saga_type: str = "create_customer",
    step: str | None = "support_user",
    correlation_id: str | None = None,
    **extra: Any,
) -> None:
    updated = now() - timedelta(seconds=idle_s)
    insert(
        conn,
        "sagas",
        saga_id=saga_id,
        source="aurora",
        saga_type=saga_type,
        correlation_id=correlation_id or f"corr-{saga_id}",
        status=status,
        current_step=step,
        started_at=updated - timedelta(seconds=5),
        updated_at=updated,
        stuck=stuck,
        age_s=idle_s + 5,
        idle_s=idle_s,
        **extra,
    )


def invocations(
    conn: psycopg.Connection[Any],
    version: str,
    count: int,
    *,
    failing_every: int = 0,
    function: str = "fx-canary",
) -> None:
    """``count`` Lambda REPORTs of ``function`` at ``version`` over the last minutes, every
    ``failing_every``-th one failed (0: none), as the log collector writes them."""
    for i in range(count):
        failed = bool(failing_every) and i % failing_every == 0
        insert(
            conn,
            "invocations",
            ts=now() - timedelta(seconds=5 + i * 20),
            log_group=f"/aws/lambda/{function}",
            log_stream=f"2026/11/24/[{version}]abc",
            seq=i,
            function_name=function,
            function_version=version,
            request_id=f"req-{version}-{i}",
            duration_ms=100.0 + (i % 7),
            status="error" if failed else "success",
        )


def logged_invocations(
    conn: psycopg.Connection[Any],
    version: str,
    count: int,
    *,
    raising_every: int = 0,
    function: str = "fx-canary",
) -> None:
    """``count`` invocations of ``function`` at ``version`` with their lines as Lambda writes them
    (START, the handler's lines, END, a REPORT without a status), in one stream: every
    ``raising_every``-th handler raised (the runtime's ``[ERROR]`` line); the others log a handled
    error of their own (``"level": "ERROR"``), which is no failure."""
    group, stream = f"/aws/lambda/{function}", f"2026/11/24/[{version}]0123abcd"
    seq = 0
    for i in range(count):
        ts = now() - timedelta(seconds=5 + i * 20)
        request_id = f"req-{version}-{i}"
        raised = bool(raising_every) and i % raising_every == 0
        handler_line = (
            "[ERROR] InjectedDefect: injected defect\rTraceback (most recent call last):"
            if raised
            else json.dumps(
                {"level": "ERROR", "message": "retrying the read", "function_request_id": request_id}
            )
        )
        lines = [
            ("platform", request_id, f"START RequestId: {request_id} Version: {version}"),
            ("text" if raised else "json", None if raised else request_id, handler_line),
            ("platform", request_id, f"END RequestId: {request_id}"),
            ("platform", request_id, f"REPORT RequestId: {request_id}\tDuration: 12.00 ms"),
        ]
        for kind, line_request, raw in lines:
            insert(
                conn, "log_lines", ts=ts, log_group=group, log_stream=stream, seq=seq, kind=kind,
                function_name=function, function_version=version, request_id=line_request, raw=raw,
            )  # fmt: skip
            seq += 1
        insert(
            conn, "invocations", ts=ts, log_group=group, log_stream=stream, seq=seq - 1,
            function_name=function, function_version=version, request_id=request_id, duration_ms=12.0,
        )  # fmt: skip


def step(
    conn: psycopg.Connection[Any], saga_id: str, seq: int, name: str, status: str, error: str | None = None
) -> None:
    start = now() - timedelta(seconds=60 - seq)
    insert(
        conn,
        "saga_steps",
        saga_id=saga_id,
        seq=seq,
        name=name,
        status=status,
        idempotency_key=f"{saga_id}:{name}",
        started_at=start,
        finished_at=start + timedelta(seconds=1),
        error=error,
    )


def span(
    conn: psycopg.Connection[Any],
    trace_id: str,
    span_id: str,
    name: str,
    *,
    parent: str | None = None,
    offset_ms: float = 0,
    duration_ms: float = 10,
    status: str = "UNSET",
    correlation_id: str | None = None,
    service: str = "sw-api",
) -> None:
    start = now() - timedelta(seconds=30) + timedelta(milliseconds=offset_ms)
    insert(
        conn,
        "spans",
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind="SERVER",
        service=service,
        start_time=start,
        end_time=start + timedelta(milliseconds=duration_ms),
        duration_ms=duration_ms,
        status_code=status,
        correlation_id=correlation_id,
        attributes={},
    )


def log_line(
    conn: psycopg.Connection[Any],
    seq: int,
    message: str,
    *,
    correlation_id: str,
    trace_id: str | None = None,
    span_id: str | None = None,
    level: str = "INFO",
    raw: str | None = None,
    error_code: str | None = None,
) -> None:
    insert(
        conn,
        "log_lines",
        ts=now() - timedelta(seconds=29) + timedelta(milliseconds=seq),
        log_group="/aws/lambda/fn",
        log_stream="s",
        seq=seq,
        kind="json",
        function_name="fn",
        level=level,
        request_id="req-1",
        correlation_id=correlation_id,
        trace_id=trace_id,
        span_id=span_id,
        message=message,
        error_code=error_code,
        raw=raw or json.dumps({"message": message}),
    )


def queue(
    conn: psycopg.Connection[Any],
    name: str,
    *,
    visible: int,
    is_dlq: bool = False,
    dlq_name: str | None = None,
    oldest_age_s: float | None = None,
) -> None:
    at = now()
    values: dict[str, Any] = dict(
        queue_name=name,
        queue_url=f"http://127.0.0.1:1/123/{name}",
        visible=visible,
        in_flight=0,
        delayed=0,
        oldest_age_s=oldest_age_s,
        dlq_name=dlq_name,
        max_receive_count=3 if dlq_name else None,
        is_dlq=is_dlq,
    )
    insert(conn, "queue_state", sampled_at=at, **values)
    for minutes, depth in ((10, 0), (5, max(0, visible - 1)), (0, visible)):
        insert(
            conn, "queue_samples", sampled_at=at - timedelta(minutes=minutes), **{**values, "visible": depth}
        )


def dlq_message(
    conn: psycopg.Connection[Any],
    queue_name: str,
    message_id: str,
    *,
    body: str,
    correlation_id: str | None,
    receive_count: int = 4,
) -> None:
    insert(
        conn,
        "dlq_messages",
        queue_name=queue_name,
        message_id=message_id,
        correlation_id=correlation_id,
        sent_at=now() - timedelta(minutes=3),
        receive_count=receive_count,
        body=body,
        attributes={"correlation_id": correlation_id or ""},
    )
