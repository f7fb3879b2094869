"""Telemetry for every handler of the reference app, set up once per execution environment.

::

    from instrumented_app.telemetry import instrumented, logger, metrics, tracer

    @instrumented                      # or @instrumented(capture_response=False)
    def handler(event, context):
        logger.info("created", extra={"customer_id": cid})   # a contract log line
        metrics.add_metric(name="CustomersCreated", unit="Count", value=1)
        with tracer.start_as_current_span("call support desk"):
            httpx.post(url, headers=outgoing_headers())      # X-Correlation-Id + traceparent

Everything reads the function's environment (``POWERTOOLS_SERVICE_NAME``,
``AWS_LAMBDA_FUNCTION_NAME``/``VERSION``, ``OTEL_EXPORTER_OTLP_ENDPOINT``), so
the same code runs on the local runtime and on AWS.
"""

from instrumented_app.telemetry.config import TelemetryConfig
from instrumented_app.telemetry.correlation import current_correlation_id
from instrumented_app.telemetry.events import EventTrace, MessageTrace, Trigger, describe_event
from instrumented_app.telemetry.fields import bind_saga, log_error
from instrumented_app.telemetry.handler import UNHANDLED_ERROR_CODE, instrumented
from instrumented_app.telemetry.instances import logger, metrics
from instrumented_app.telemetry.masking import PII_KEYS, mask_text
from instrumented_app.telemetry.propagation import message_attributes, outgoing_headers, trace_fields
from instrumented_app.telemetry.records import record_scope
from instrumented_app.telemetry.tracing import flush_spans, tracer, tracer_provider

__all__ = [
    "PII_KEYS",
    "UNHANDLED_ERROR_CODE",
    "EventTrace",
    "MessageTrace",
    "TelemetryConfig",
    "Trigger",
    "bind_saga",
    "current_correlation_id",
    "describe_event",
    "flush_spans",
    "instrumented",
    "log_error",
    "logger",
    "mask_text",
    "message_attributes",
    "metrics",
    "outgoing_headers",
    "record_scope",
    "trace_fields",
    "tracer",
    "tracer_provider",
]
