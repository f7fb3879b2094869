"""The transaction view: everything known about one correlation id, in time order. Pure.

``collectors.transaction.query`` fetches rows; ``build_transaction`` orders them: a timeline of every
event (saga start/updates, steps, spans, log lines, invocations, DLQ messages, findings), and the
spans as a waterfall per trace (depth-first by parent, siblings by start time). The dashboard's trace
inspector and ``sagawatch trace`` both draw from this one structure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]

#: Among events at the same instant, the cause before the effect.
KIND_ORDER: dict[str, int] = {
    "saga": 0,
    "step": 1,
    "span": 2,
    "log": 3,
    "invocation": 4,
    "dlq": 5,
    "related": 6,
}


@dataclass(frozen=True)
class SpanNode:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    service: str | None
    start: datetime
    end: datetime
    duration_ms: float
    status_code: str | None
    depth: int


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str
    summary: str
    source: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Transaction:
    correlation_id: str
    sagas: tuple[Row, ...]
    steps: tuple[Row, ...]
    waterfall: tuple[SpanNode, ...]
    logs: tuple[Row, ...]
    dlq_messages: tuple[Row, ...]
    related: tuple[Row, ...]
    timeline: tuple[TimelineEvent, ...]

    @property
    def empty(self) -> bool:
        return not self.timeline

    @property
    def trace_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(node.trace_id for node in self.waterfall))

    def to_json(self) -> dict[str, Any]:
        return {
            "correlation_id": self.correlation_id,
            "sagas": [dict(r) for r in self.sagas],
            "steps": [dict(r) for r in self.steps],
            "spans": [asdict(n) for n in self.waterfall],
            "logs": [dict(r) for r in self.logs],
            "dlq_messages": [dict(r) for r in self.dlq_messages],
            "related": [dict(r) for r in self.related],
            "timeline": [asdict(e) for e in self.timeline],
        }


def build_transaction(
    correlation_id: str,
    *,
    sagas: Sequence[Row] = (),
    steps: Sequence[Row] = (),
    spans: Sequence[Row] = (),
    logs: Sequence[Row] = (),
    invocations: Sequence[Row] = (),
    dlq_messages: Sequence[Row] = (),
    related: Sequence[Row] = (),
) -> Transaction:
    """Order fetched rows into one transaction; rows are mappings of the audit tables' columns."""
    ordered_logs = tuple(sorted(logs, key=_log_key))
    events: list[tuple[tuple[Any, ...], TimelineEvent]] = []
    for saga in sagas:
        events.append(
            _event(
                saga["started_at"],
                "saga",
                f"{saga['saga_type']} saga {saga['status']}",
                saga["saga_id"],
                saga,
            )
        )
    for step in steps:
        if step.get("started_at") is not None:
            summary = f"step {step['seq']} {step['name']} {step['status']}"
            events.append(_event(step["started_at"], "step", summary, step["saga_id"], step, step["seq"]))
    waterfall = tuple(waterfall_of(spans))
    for node in waterfall:
        status = f" {node.status_code}" if node.status_code and node.status_code != "UNSET" else ""
        summary = f"span {node.name} {node.duration_ms:.1f} ms{status}"
        events.append(
            _event(node.start, "span", summary, node.service or node.trace_id, asdict(node), node.span_id)
        )
    for index, line in enumerate(ordered_logs):
        if line.get("kind") == "platform" and str(line.get("raw", "")).startswith("REPORT"):
            continue  # its invocation event says the same, parsed
        events.append(
            _event(line["ts"], "log", _log_summary(line), line.get("function_name") or "", line, index)
        )
    for call in invocations:
        summary = f"REPORT {call.get('function_name')} {call.get('duration_ms') or 0:.1f} ms"
        events.append(_event(call["ts"], "invocation", summary, call.get("request_id") or "", call))
    for message in dlq_messages:
        at = message["sent_at"] or message["first_seen_at"]
        events.append(_event(at, "dlq", f"in DLQ {message['queue_name']}", message["message_id"], message))
    for row in related:
        at = row.get("_at")
        if at is not None:
            events.append(_event(at, "related", _related_summary(row), "", row))
    events.sort(key=lambda pair: pair[0])
    return Transaction(
        correlation_id=correlation_id,
        sagas=tuple(sorted(sagas, key=lambda s: s["started_at"])),
        steps=tuple(sorted(steps, key=lambda s: (s["saga_id"], s["seq"]))),
        waterfall=waterfall,
        logs=ordered_logs,
        dlq_messages=tuple(dlq_messages),
        related=tuple(related),
        timeline=tuple(event for _, event in events),
    )


def waterfall_of(spans: Iterable[Row]) -> list[SpanNode]:
    """Spans depth-first per trace: roots (no parent among these spans) by start, children under them."""
    by_id = {(s["trace_id"], s["span_id"]): s for s in spans}
    children: dict[tuple[str, str | None], list[Row]] = {}
    roots: list[Row] = []
    for span in by_id.values():
        parent = span.get("parent_span_id")
        if parent and (span["trace_id"], parent) in by_id:
            children.setdefault((span["trace_id"], parent), []).append(span)
        else:
            roots.append(span)
    order: list[SpanNode] = []
    stack: list[tuple[Row, int]] = [(r, 0) for r in sorted(roots, key=_span_key, reverse=True)]
    seen: set[tuple[str, str]] = set()
    while stack:  # iterative: a deep or cyclic parent chain cannot blow the stack
        span, depth = stack.pop()
        key = (span["trace_id"], span["span_id"])
        if key in seen:
            continue
        seen.add(key)
        order.append(_node(span, depth))
        kids = sorted(children.get(key, []), key=_span_key, reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)
    return order


def _node(span: Row, depth: int) -> SpanNode:
    return SpanNode(
        trace_id=span["trace_id"],
        span_id=span["span_id"],
        parent_span_id=span.get("parent_span_id"),
        name=span["name"],
        service=span.get("service"),
        start=span["start_time"],
        end=span["end_time"],
        duration_ms=float(span["duration_ms"]),
        status_code=span.get("status_code"),
        depth=depth,
    )


def _span_key(span: Row) -> tuple[Any, ...]:
    return (span["start_time"], span["span_id"])


def _log_key(line: Row) -> tuple[Any, ...]:
    return (line["ts"], line.get("log_group") or "", line.get("log_stream") or "", line.get("seq") or 0)


def _event(
    at: datetime, kind: str, summary: str, source: str, detail: Mapping[str, Any], tiebreak: Any = 0
) -> tuple[tuple[Any, ...], TimelineEvent]:
    return (at, KIND_ORDER[kind], tiebreak, summary), TimelineEvent(at, kind, summary, source, detail)


def _related_summary(row: Row) -> str:
    """One line for a row of another table; a job says what an operator asks of it first."""
    if row.get("_table") == "jobs":
        retries = row.get("retry_count") or 0
        summary = f"job {row.get('kind')} {row.get('status')}, {retries} failed attempt{'s' * (retries != 1)}"
        return f"{summary}: {row['last_error']}" if row.get("last_error") else summary
    words = (row.get(k) for k in ("_table", "kind", "action", "status", "system", "key", "field"))
    return " ".join(str(w) for w in words if w)


def _log_summary(line: Row) -> str:
    level = line.get("level") or "-"
    message = line.get("message") if line.get("message") is not None else line.get("raw", "")
    error = f" [{line['error_code']}]" if line.get("error_code") else ""
    return f"{level} {message}{error}"
