"""The order event: what ``POST /orders/events`` accepts and every consumer reads back.

The same JSON travels as the SNS message (raw delivery to each queue) and as the
EventBridge ``detail``; ``correlation_id`` and ``traceparent`` ride beside it
(message attributes, ``detail`` fields), never inside the business fields.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Test stacks set this to "true" so a request may carry ``faults``; anywhere else they are refused.
FAULTS_ENV = "SAGAWATCH_TEST_FAULTS"
#: How long a consumer given the "slow" fault sleeps before doing its work.
SLOW_FAULT_S = 4.0

OrderId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ConsumerName = Literal["inventory", "billing", "notification", "vip_notify", "fraud_check"]
Fault = Literal["fail", "slow"]


class EventType(StrEnum):
    PLACED = "order_placed"
    SHIPPED = "order_shipped"
    CANCELLED = "order_cancelled"
    REFUNDED = "order_refunded"


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    quantity: int = Field(ge=1, le=10_000)


class OrderEvent(BaseModel):
    """One thing that happened to an order; ``amount`` is in the currency's minor unit (yen, cents)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: OrderId
    event_type: EventType
    amount: int = Field(ge=0, le=10**12)
    items: list[OrderItem] = Field(min_length=1, max_length=100)
    #: Test stacks only (``SAGAWATCH_TEST_FAULTS``): make one consumer fail or be slow for this event.
    faults: dict[ConsumerName, Fault] | None = None

    @model_validator(mode="after")
    def _distinct_skus(self) -> OrderEvent:
        skus = [item.sku for item in self.items]
        if len(skus) != len(set(skus)):
            raise ValueError("items: each sku at most once (add up its quantity instead)")
        return self

    def fault_for(self, consumer: str) -> Fault | None:
        return (self.faults or {}).get(consumer)  # type: ignore[call-overload]

    def as_message(self) -> dict[str, Any]:
        """The JSON that goes onto the wire (SNS message, EventBridge ``detail``)."""
        return self.model_dump(mode="json", exclude_none=True)


def faults_allowed(environ: dict[str, str] | None = None) -> bool:
    return (environ if environ is not None else dict(os.environ)).get(FAULTS_ENV, "").lower() in ("1", "true")
