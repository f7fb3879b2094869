"""An ``ExportTraceServiceRequest`` -> rows of the ``spans`` table (0001_spans.sql), as pure functions.

Ids become lowercase hex (what W3C ``traceparent`` and the log lines carry, so
an operator can paste one into a query), times become aware UTC datetimes,
enums become their short names (``SERVER``, ``ERROR``), and attribute values
become plain JSON.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from collectors.otlp.decode import OtlpDecodeError

CORRELATION_ID_ATTRIBUTE = "correlation_id"  # sagawatch.contracts.CORRELATION_ID_ATTRIBUTE
SERVICE_NAME_ATTRIBUTE = "service.name"


@dataclass(frozen=True)
class SpanRow:
    """One row of ``spans``; the field names are the column names."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service: str | None
    start_time: datetime
    end_time: datetime
    duration_ms: float
    status_code: str
    status_message: str | None
    correlation_id: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)


def spans_to_rows(request: ExportTraceServiceRequest) -> list[SpanRow]:
    """Every span of the request as a row; raises ``OtlpDecodeError`` on a span without valid ids.

    All spans are checked before any is returned, so a bad span refuses the
    whole request and nothing is half-written.
    """
    return list(_rows(request))


def _rows(request: ExportTraceServiceRequest) -> Iterator[SpanRow]:
    for r_index, resource_spans in enumerate(request.resource_spans):
        resource_attributes = attributes_to_dict(resource_spans.resource.attributes)
        for s_index, scope_spans in enumerate(resource_spans.scope_spans):
            for index, span in enumerate(scope_spans.spans):
                where = f"resourceSpans[{r_index}].scopeSpans[{s_index}].spans[{index}]"
                yield _row(span, resource_attributes, where)


def _row(span: Span, resource: dict[str, Any], where: str) -> SpanRow:
    trace_id = _hex_id(span.trace_id, 16, f"{where}.traceId")
    span_id = _hex_id(span.span_id, 8, f"{where}.spanId")
    parent = _hex_id(span.parent_span_id, 8, f"{where}.parentSpanId") if span.parent_span_id else None
    attributes = attributes_to_dict(span.attributes)
    correlation_id = attributes.get(CORRELATION_ID_ATTRIBUTE)
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    service = resource.get(SERVICE_NAME_ATTRIBUTE)
    return SpanRow(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=span.name,
        kind=Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
        service=str(service) if service is not None else None,
        start_time=nanos_to_datetime(start),
        end_time=nanos_to_datetime(end),
        duration_ms=max(end - start, 0) / 1_000_000,
        status_code=Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
        status_message=span.status.message or None,
        correlation_id=str(correlation_id) if correlation_id is not None else None,
        attributes=attributes,
        events=[
            {
                "name": event.name,
                "time": nanos_to_datetime(event.time_unix_nano).isoformat(),
                "attributes": attributes_to_dict(event.attributes),
            }
            for event in span.events
        ],
        links=[
            {
                "trace_id": _hex_id(link.trace_id, 16, f"{where}.links[{i}].traceId"),
                "span_id": _hex_id(link.span_id, 8, f"{where}.links[{i}].spanId"),
                "attributes": attributes_to_dict(link.attributes),
            }
            for i, link in enumerate(span.links)
        ],
        resource=resource,
    )


def _hex_id(raw: bytes, size: int, where: str) -> str:
    if len(raw) != size or raw == bytes(size):
        raise OtlpDecodeError(f"{where}: expected a non-zero {size}-byte id, got {len(raw)} bytes")
    return raw.hex()


def nanos_to_datetime(nanos: int) -> datetime:
    """Unix nanoseconds -> aware UTC datetime (PostgreSQL keeps microseconds, so that is the precision)."""
    seconds, rest = divmod(nanos, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // 1000)


def attributes_to_dict(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    """OTLP key/values -> a JSON-ready dict (a repeated key keeps its last value, as the SDK does)."""
    return {kv.key: any_value_to_python(kv.value) for kv in attributes}


def any_value_to_python(value: AnyValue) -> Any:
    """One ``AnyValue`` -> str/bool/int/float/list/dict/None; bytes as base64 text, since JSON has none."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value_to_python(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_to_dict(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)
