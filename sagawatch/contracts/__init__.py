"""The contracts of DESIGN.md as code: what every package may rely on.

The reference app writes these shapes and the audit packages read them; the two
halves meet only here and in the data.
"""

from sagawatch.contracts.correlation import (
    CORRELATION_ID_ATTRIBUTE,
    CORRELATION_ID_HEADER,
    IDEMPOTENCY_KEY_HEADER,
    TRACEPARENT_ATTRIBUTE,
    TRACEPARENT_HEADER,
    correlation_id_from_headers,
    is_valid_correlation_id,
    mint_correlation_id,
)
from sagawatch.contracts.logline import ERROR_LOG_FIELDS, REQUIRED_LOG_FIELDS, SAGA_LOG_FIELDS, LogLine
from sagawatch.contracts.saga import (
    DEFAULT_STUCK_THRESHOLDS_S,
    TERMINAL_STATUSES,
    SagaState,
    SagaStatus,
    SagaStep,
    StepStatus,
    is_stuck,
)

__all__ = [
    "CORRELATION_ID_ATTRIBUTE",
    "CORRELATION_ID_HEADER",
    "DEFAULT_STUCK_THRESHOLDS_S",
    "ERROR_LOG_FIELDS",
    "IDEMPOTENCY_KEY_HEADER",
    "REQUIRED_LOG_FIELDS",
    "SAGA_LOG_FIELDS",
    "TERMINAL_STATUSES",
    "TRACEPARENT_ATTRIBUTE",
    "TRACEPARENT_HEADER",
    "LogLine",
    "SagaState",
    "SagaStatus",
    "SagaStep",
    "StepStatus",
    "correlation_id_from_headers",
    "is_stuck",
    "is_valid_correlation_id",
    "mint_correlation_id",
]
