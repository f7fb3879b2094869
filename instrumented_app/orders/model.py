"""An order as ``POST /orders`` takes it, and the Step Functions input built from it.

The execution is named after the order id: Step Functions refuses a second
execution of the same name (``ExecutionAlreadyExists``), which is what makes a
repeated ``POST /orders`` start nothing new.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The forward tasks, in order, and the compensations (names as the ASL states are named).
TASKS = ("ReserveInventory", "ProcessPayment", "ArrangeShipping", "ConfirmOrder")
COMPENSATIONS = ("RefundPayment", "CancelReservation")
#: A function's environment says whether an order may carry test faults (never on in production).
FAULTS_ENV = "SAGAWATCH_TEST_FAULTS"
#: What an execution name may hold (Step Functions: 1-80 characters, no spaces or wildcards).
ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=1, le=1000)


class OrderFaults(BaseModel):
    """Test-only: make tasks fail on purpose, counted per order and task in the ledger.

    ``fail``: task -> how many times it fails for good (``TaskFailed``: caught, compensated);
    ``transient``: task -> how many times it fails with ``TransientError`` (retried by the ASL).
    """

    model_config = ConfigDict(extra="forbid")

    fail: dict[str, int] = Field(default_factory=dict)
    transient: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_tasks(self) -> OrderFaults:
        for field_name in ("fail", "transient"):
            for task, times in getattr(self, field_name).items():
                if task not in TASKS:
                    raise ValueError(
                        f"faults.{field_name}: unknown task {task!r} (one of {', '.join(TASKS)})"
                    )
                if not 0 <= times <= 10:
                    raise ValueError(f"faults.{field_name}.{task}: must be 0..10, got {times}")
        return self


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(pattern=ORDER_ID_PATTERN)
    cust_no: str = Field(pattern=ORDER_ID_PATTERN)
    lines: list[OrderLine] = Field(min_length=1, max_length=100)
    amount: int = Field(ge=1, le=100_000_000, description="In the smallest currency unit.")
    faults: OrderFaults | None = None


def faults_allowed(environ: dict[str, str] | None = None) -> bool:
    return (environ if environ is not None else dict(os.environ)).get(FAULTS_ENV, "").lower() in ("1", "true")


def execution_input(order: OrderRequest, trace: dict[str, str]) -> dict[str, Any]:
    """The execution's input: the order, plus ``correlation_id``/``traceparent`` at the top (where a
    directly invoked handler reads them)."""
    return {**order.model_dump(mode="json", exclude_none=True), **trace}
