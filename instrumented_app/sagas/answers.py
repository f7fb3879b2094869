"""How a saga is shown over HTTP, and which status code its outcome gets; pure, so tested alone."""

from __future__ import annotations

import re
from typing import Any

from instrumented_app.sagas.records import SagaRecord
from sagawatch.contracts import SagaStatus

#: Error codes of a refusal (the request cannot succeed as sent) rather than an outage.
REFUSAL_CODES = frozenset({"CUSTOMER_EXISTS", "SAAS_REJECTED", "SAAS_NOT_FOUND"})
_CODE = re.compile(r"^\[([A-Z_]+)\]")


def saga_view(record: SagaRecord) -> dict[str, Any]:
    """A saga as the API shows it (``GET /sagas/{id}`` and the body of ``POST /customers``)."""
    state = record.state
    return {
        "saga_id": state.id,
        "saga_type": state.type,
        "status": state.status.value,
        "correlation_id": state.correlation_id,
        "cust_no": record.payload.get("cust_no"),
        "current_step": state.current_step,
        "failed_step": record.failed_step,
        "error": state.last_error,
        "attempts": state.attempts,
        "started_at": state.started_at.isoformat(),
        "updated_at": state.updated_at.isoformat(),
        "steps": [
            {
                "name": step.name,
                "status": step.status.value,
                "idempotency_key": step.idempotency_key,
                "started_at": step.started_at.isoformat() if step.started_at else None,
                "finished_at": step.finished_at.isoformat() if step.finished_at else None,
                "error": step.error,
                "result": step.result,
            }
            for step in record.steps
        ],
    }


def error_code_of(record: SagaRecord) -> str | None:
    """The code at the head of the failing step's error (``[SAAS_REJECTED] ...``), if any."""
    if record.failed_step is None:
        return None
    match = _CODE.match(record.step(record.failed_step).error or "")
    return match.group(1) if match else None


def http_status(record: SagaRecord) -> int:
    if record.state.status is SagaStatus.SUCCEEDED:
        return 201
    return 409 if error_code_of(record) in REFUSAL_CODES else 502
