"""The shapes of ``/items``: what a client may send, and what an item is.

Prices are ``Decimal`` end to end (DynamoDB numbers come back as ``Decimal``;
a float would turn 19.99 into 19.989999...), with at most two decimal places,
so the JSON answer can write them as plain numbers without losing a cent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Category = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="lower-case slug")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]

#: The fields a client sets; everything else on an item is the service's.
CLIENT_FIELDS = ("name", "category", "price", "quantity")


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: Category
    price: Price
    quantity: Quantity = 0


class ItemUpdate(BaseModel):
    """A partial update: the fields to change plus the version the client last read (the write is
    refused with 409 when the item has moved on since)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, strict=True, description="the version this change is based on")
    name: Name | None = None
    category: Category | None = None
    price: Price | None = None
    quantity: Quantity | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ItemUpdate:
        if not self.changes():
            raise ValueError(f"at least one of {', '.join(CLIENT_FIELDS)} must be given")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CLIENT_FIELDS if getattr(self, name) is not None}


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)

    item_id: str
    name: str
    category: str
    price: Decimal
    quantity: int
    version: int
    created_at: str = Field(description="ISO 8601 UTC with milliseconds: the GSI's sort key")
    updated_at_ms: int = Field(description="epoch ms of the last write: where the CQRS lag starts")
    correlation_id: str | None = None
    traceparent: str | None = None

    def view(self) -> dict[str, Any]:
        """What a client sees (``Decimal`` kept for the resolver's Decimal-safe encoder)."""
        return self.model_dump(exclude={"traceparent"})


def new_item(request: ItemCreate, now: datetime, trace: dict[str, str]) -> Item:
    return Item(
        item_id=uuid.uuid4().hex,
        **request.model_dump(),
        version=1,
        created_at=iso_ms(now),
        updated_at_ms=epoch_ms(now),
        correlation_id=trace.get("correlation_id"),
        traceparent=trace.get("traceparent"),
    )


class ListQuery(BaseModel):
    """``GET /items?category=..&from=YYYY-MM-DD&to=YYYY-MM-DD&limit=..&next_token=..``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    category: Category
    created_from: date | None = Field(default=None, alias="from")
    created_to: date | None = Field(default=None, alias="to")
    limit: int = Field(default=20, ge=1, le=100)
    next_token: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _ordered(self) -> ListQuery:
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise ValueError("'from' is after 'to'")
        return self

    def bounds(self) -> tuple[str, str]:
        """The GSI sort-key range: ISO strings sort as the instants they name."""
        low = f"{self.created_from.isoformat()}T00:00:00.000Z" if self.created_from else "0000"
        high = f"{self.created_to.isoformat()}T23:59:59.999Z" if self.created_to else "9999"
        return low, high


def json_ready(value: Any) -> Any:
    """``value`` with every ``Decimal`` (DynamoDB's number type) as an int when integral, else a float:
    JSON numbers, not strings. Money has two decimal places here, so the float prints exactly."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
