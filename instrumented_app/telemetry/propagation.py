"""Trace context and correlation id for outgoing calls and messages, in each transport's shape.

The W3C propagator is used explicitly (not the global one, which
``OTEL_PROPAGATORS`` may switch to X-Ray) because ``traceparent`` is the
contract between the app's hops.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from instrumented_app.telemetry.correlation import current_correlation_id
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE, CORRELATION_ID_HEADER, TRACEPARENT_ATTRIBUTE

W3C = TraceContextTextMapPropagator()


def trace_fields() -> dict[str, str]:
    """``{"correlation_id": ..., "traceparent": ...}`` to merge into EventBridge ``detail``,
    Step Functions input or a DynamoDB item; keys are left out when there is nothing to carry."""
    fields: dict[str, str] = {}
    correlation_id = current_correlation_id()
    if correlation_id:
        fields[CORRELATION_ID_ATTRIBUTE] = correlation_id
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    if TRACEPARENT_ATTRIBUTE in carrier:
        fields[TRACEPARENT_ATTRIBUTE] = carrier[TRACEPARENT_ATTRIBUTE]
    return fields


def outgoing_headers() -> dict[str, str]:
    """HTTP headers for a call to a SaaS or another API: ``X-Correlation-Id`` and ``traceparent``."""
    headers: dict[str, str] = {}
    correlation_id = current_correlation_id()
    if correlation_id:
        headers[CORRELATION_ID_HEADER] = correlation_id
    W3C.inject(headers)
    return headers


def message_attributes() -> dict[str, dict[str, str]]:
    """SQS/SNS ``MessageAttributes`` carrying the correlation id and ``traceparent``
    (botocore's instrumentation does not put trace context into SQS messages; DESIGN.md)."""
    return {name: {"DataType": "String", "StringValue": value} for name, value in trace_fields().items()}


def parent_context(carrier: Mapping[str, str]) -> otel_context.Context | None:
    """The context a ``traceparent`` carrier names, or None (meaning: the current context)."""
    return W3C.extract(carrier) if carrier else None


def link_to(traceparent: str | None, attributes: Mapping[str, str] | None = None) -> Link | None:
    """A span link to the span a ``traceparent`` names; None when it is missing or malformed."""
    if not traceparent:
        return None
    span_context = trace.get_current_span(
        W3C.extract({TRACEPARENT_ATTRIBUTE: traceparent})
    ).get_span_context()
    return Link(span_context, dict(attributes or {})) if span_context.is_valid else None
