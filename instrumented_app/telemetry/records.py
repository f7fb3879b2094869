"""``record_scope``: one record of a batch processed under its own correlation id and span.

A batch of SQS messages may hold several business transactions. The
invocation span links to every producer; inside it, each record gets a child
span linked to its own producer, and the log lines written while it is
processed carry that record's correlation id, so an operator following one
order sees only that order's lines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry.trace import Span, SpanKind

from instrumented_app.telemetry.correlation import (
    current_correlation_id,
    reset_correlation_id,
    set_correlation_id,
)
from instrumented_app.telemetry.events import message_trace
from instrumented_app.telemetry.instances import logger
from instrumented_app.telemetry.propagation import link_to
from instrumented_app.telemetry.tracing import record_failure, tracer
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE, is_valid_correlation_id


@contextmanager
def record_scope(record: Mapping[str, Any]) -> Iterator[Span]:
    """Process ``record`` inside this block; an exception is recorded on the record's span and re-raised
    (so a ``BatchProcessor`` or the handler can report the record as a ``batchItemFailure``)."""
    message = message_trace(record)
    outer = current_correlation_id()
    own = (
        message.correlation_id
        if message.correlation_id and is_valid_correlation_id(message.correlation_id)
        else None
    )
    correlation_id = own or outer
    attributes: dict[str, str] = {"messaging.operation.type": "process"}
    if message.message_id:
        attributes["messaging.message.id"] = message.message_id
    if correlation_id:
        attributes[CORRELATION_ID_ATTRIBUTE] = correlation_id
    link = link_to(message.traceparent, {"messaging.message.id": message.message_id or ""})
    previous_logged = logger.get_correlation_id()
    token = set_correlation_id(correlation_id)
    logger.set_correlation_id(correlation_id)
    try:
        with tracer.start_as_current_span(
            "process message",
            kind=SpanKind.CONSUMER,
            links=[link] if link else [],
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except Exception as exc:
                record_failure(span, exc)
                raise
    finally:
        logger.set_correlation_id(previous_logged)
        reset_correlation_id(token)
