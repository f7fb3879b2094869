"""``@instrumented``: everything a handler needs, set up once, applied per invocation.

Per invocation, in order: Powertools binds the Lambda context to the logger
(clearing the previous invocation's keys); the event is read for its trigger,
correlation id and trace context; the invocation span starts (SERVER with the
caller as parent for API events, CONSUMER with one link per message for SQS
and SNS batches, INTERNAL otherwise); the handler runs inside it; and at the
end, whatever happened, the EMF metrics are flushed and the spans sent, since
Lambda freezes the process once the handler returns.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast, overload

from aws_lambda_powertools.metrics import MetricUnit
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from instrumented_app.telemetry.correlation import reset_correlation_id, set_correlation_id
from instrumented_app.telemetry.events import MESSAGE_TRIGGERS, EventTrace, Trigger, describe_event
from instrumented_app.telemetry.instances import config, logger, metrics
from instrumented_app.telemetry.log import dumps_line
from instrumented_app.telemetry.masking import mask_json_line
from instrumented_app.telemetry.propagation import link_to, parent_context
from instrumented_app.telemetry.tracing import configure_tracing, flush_spans, record_failure, tracer
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE, CORRELATION_ID_HEADER

R = TypeVar("R")
Handler = Callable[[Any, Any], R]

#: The error code logged for an exception that does not carry its own ``error_code`` attribute.
UNHANDLED_ERROR_CODE = "UNHANDLED_EXCEPTION"
#: Longest captured response kept on the span (span attributes are not a payload store).
MAX_RESPONSE_CHARS = 2048

_cold_start = True


@overload
def instrumented(handler: Handler[R], /) -> Handler[R]: ...
@overload
def instrumented(*, capture_response: bool = True) -> Callable[[Handler[R]], Handler[R]]: ...
def instrumented(
    handler: Handler[R] | None = None, /, *, capture_response: bool = True
) -> Handler[R] | Callable[[Handler[R]], Handler[R]]:
    """Decorate a Lambda handler with logging, metrics, tracing and correlation.

    An API Gateway proxy response also gets an ``X-Correlation-Id`` header (when
    the handler did not set one), so a caller learns the id minted for it.

    ``capture_response=False`` keeps the handler's return value off the span
    (it is PII-masked and truncated either way).
    """

    def decorate(fn: Handler[R]) -> Handler[R]:
        configure_tracing(config)

        def traced(event: Any, context: Any) -> R:
            return _invoke(fn, event, context, capture_response=capture_response)

        with_context = logger.inject_lambda_context(traced, clear_state=True)

        @functools.wraps(fn)
        def wrapper(event: Any, context: Any) -> R:
            try:
                result: R = with_context(event, context)
                return result
            finally:
                _flush_metrics()
                flush_spans()

        return wrapper

    return decorate(handler) if handler is not None else decorate


def _invoke(fn: Handler[R], event: Any, context: Any, *, capture_response: bool) -> R:
    global _cold_start
    cold, _cold_start = _cold_start, False
    function_name = str(getattr(context, "function_name", "") or config.function_name)
    info = describe_event(event, function_name)
    _use_version(str(getattr(context, "function_version", "") or config.function_version))
    if cold:
        metrics.add_metric(name="ColdStart", unit=MetricUnit.Count, value=1)
    logger.set_correlation_id(info.correlation_id)
    token = set_correlation_id(info.correlation_id)
    try:
        with tracer.start_as_current_span(
            info.span_name,
            context=parent_context(info.parent),
            kind=_span_kind(info.trigger),
            links=_links(info),
            attributes={
                **info.attributes,
                CORRELATION_ID_ATTRIBUTE: info.correlation_id,
                "faas.invocation_id": str(getattr(context, "aws_request_id", "")),
                "faas.coldstart": cold,
                "cloud.resource_id": str(getattr(context, "invoked_function_arn", "")),
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = fn(event, context)
            except Exception as exc:
                _record_failure(span, exc)
                raise
            _record_response(span, info, result, capture_response)
            return _with_correlation_header(info, result)
    finally:
        reset_correlation_id(token)


def _use_version(version: str) -> None:
    """Make ``version`` a default dimension (kept across flushes), replacing a previous value.

    On Lambda a process only ever runs one version, so this does work once; the
    replacement path exists for in-process callers that invoke several versions.
    """
    previous = metrics.default_dimensions.get("version")
    if previous == version:
        return
    if previous is not None:
        others = {k: v for k, v in metrics.default_dimensions.items() if k != "version"}
        metrics.clear_default_dimensions()
        metrics.clear_metrics()  # drops the old value from the pending dimensions (else Powertools warns)
        metrics.set_default_dimensions(**others)
    metrics.set_default_dimensions(version=version)


def _span_kind(trigger: Trigger) -> SpanKind:
    if trigger is Trigger.API:
        return SpanKind.SERVER
    if trigger in MESSAGE_TRIGGERS:
        return SpanKind.CONSUMER
    return SpanKind.INTERNAL


def _links(info: EventTrace) -> list[Link]:
    """DESIGN.md: a batch consumer links to each message's producer rather than picking one parent."""
    links = []
    for message in info.messages:
        attributes = {"messaging.message.id": message.message_id} if message.message_id else {}
        if message.correlation_id:
            attributes[CORRELATION_ID_ATTRIBUTE] = message.correlation_id
        link = link_to(message.traceparent, attributes)
        if link is not None:
            links.append(link)
    return links


def _record_failure(span: Span, exc: Exception) -> None:
    """The exception on the span (its text PII-masked) and one contract log line with ``error_code``."""
    code = getattr(exc, "error_code", None)
    record_failure(span, exc)
    logger.exception(
        "handler failed: %s",
        type(exc).__name__,
        extra={"error_code": code if isinstance(code, str) and code else UNHANDLED_ERROR_CODE},
    )


def _record_response(span: Span, info: EventTrace, result: Any, capture_response: bool) -> None:
    if isinstance(result, Mapping):
        status = result.get("statusCode")
        if info.trigger is Trigger.API and isinstance(status, int):
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))
        failures = result.get("batchItemFailures")
        if isinstance(failures, list):
            span.set_attribute("faas.batch.failure_count", len(failures))
    if capture_response and result is not None:
        text = mask_json_line(dumps_line(result), dumps_line)
        span.set_attribute("faas.response", text[:MAX_RESPONSE_CHARS])


def _with_correlation_header(info: EventTrace, result: R) -> R:
    """An API response tells its caller the correlation id (the one sent, or the one minted here),
    unless the handler set the header itself; the handler's own dict is not modified."""
    if info.trigger is not Trigger.API or not isinstance(result, dict) or "statusCode" not in result:
        return result
    headers = result.get("headers") or {}
    if any(str(name).lower() == CORRELATION_ID_HEADER.lower() for name in headers):
        return result
    echoed: Any = {**result, "headers": {**headers, CORRELATION_ID_HEADER: info.correlation_id}}
    return cast(R, echoed)


def _flush_metrics() -> None:
    """Publish this invocation's EMF blob; an invocation without metrics prints nothing."""
    if metrics.metric_set:
        metrics.flush_metrics()
    metrics.clear_metrics()
