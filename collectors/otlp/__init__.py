"""OTLP/HTTP trace receiver: spans from any OpenTelemetry exporter into the audit store's ``spans`` table.

``TraceReceiver`` (in ``server``) is what ``sagawatch up`` starts; the pieces behind it are
pure (``decode``, ``rows``) apart from the one that writes (``store``).
"""

from collectors.otlp.decode import OtlpDecodeError, decode_export_request
from collectors.otlp.rows import SpanRow, spans_to_rows
from collectors.otlp.server import TraceReceiver
from collectors.otlp.store import SpanStore

__all__ = [
    "OtlpDecodeError",
    "SpanRow",
    "SpanStore",
    "TraceReceiver",
    "decode_export_request",
    "spans_to_rows",
]
