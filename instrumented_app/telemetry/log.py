"""The Powertools Logger every handler shares, producing DESIGN.md's log-line contract.

Powertools gives ``level``, ``timestamp``, ``service`` and (through
``inject_lambda_context``) ``function_name`` and ``function_request_id``; the
handler decorator binds ``correlation_id``. What Powertools cannot know is the
OpenTelemetry span in progress, so a formatter subclass, Powertools' documented
extension point, adds ``trace_id`` and ``span_id`` to each line as it is
written, and masks PII on the finished line.
"""

from __future__ import annotations

import dataclasses
import json
from functools import partial
from typing import IO, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.logging.types import LogRecord
from opentelemetry import trace
from pydantic import BaseModel

from instrumented_app.telemetry.config import TelemetryConfig
from instrumented_app.telemetry.masking import mask_json_line
from sagawatch.streams import CurrentStdout

LOG_RECORD_ORDER = ["level", "timestamp", "service", "function_name", "function_request_id", "message"]


def to_jsonable(value: Any) -> Any:
    """Models and dataclasses as their fields, not their ``str()``: a repr would hide PII from masking."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


#: One JSON document per line, whatever the environment (Powertools indents under POWERTOOLS_DEV).
dumps_line = partial(json.dumps, default=to_jsonable, separators=(",", ":"), ensure_ascii=False)


class ContractFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line plus the current span's ids, PII-masked; always one line per record."""

    def __init__(self) -> None:
        super().__init__(
            json_serializer=dumps_line,
            json_default=to_jsonable,
            log_record_order=LOG_RECORD_ORDER,
            utc=True,
            use_rfc3339=True,
        )

    def serialize(self, log: LogRecord) -> str:
        line: dict[str, Any] = dict(log)
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            line["trace_id"] = trace.format_trace_id(span_context.trace_id)
            line["span_id"] = trace.format_span_id(span_context.span_id)
        return mask_json_line(dumps_line(line), dumps_line)


def build_logger(config: TelemetryConfig, stream: IO[str] | None = None) -> Logger:
    return Logger(
        service=config.service,
        logger_formatter=ContractFormatter(),
        stream=stream or CurrentStdout(),  # type: ignore[arg-type]
    )
