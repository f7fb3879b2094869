"""The log line: one JSON object per line in the Powertools Logger shape.

Collectors parse these fields; alarms filter on them; the dashboard groups by
them. A field added here is a promise to all three.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

REQUIRED_LOG_FIELDS: tuple[str, ...] = (
    "level",
    "timestamp",
    "service",
    "function_name",
    "function_request_id",
    "message",
    "correlation_id",
    "trace_id",
    "span_id",
)
SAGA_LOG_FIELDS: tuple[str, ...] = ("saga_id", "saga_type", "saga_step")
ERROR_LOG_FIELDS: tuple[str, ...] = ("error_code",)


class LogLine(BaseModel):
    """A parsed log line; unknown keys are kept, since handlers add their own."""

    model_config = ConfigDict(extra="allow")

    level: str
    timestamp: str
    service: str
    function_name: str | None = None
    function_request_id: str | None = None
    message: Any = None
    correlation_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    saga_id: str | None = None
    saga_type: str | None = None
    saga_step: str | None = None
    error_code: str | None = None
