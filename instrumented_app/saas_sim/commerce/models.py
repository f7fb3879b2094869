"""Commerce customers and Shopify's rules for them, free of HTTP.

Kept from Shopify: a customer needs a name, an email or a phone; email and
phone are unique in the shop (case-insensitive email); phone numbers must be
valid and are stored in E.164; ``multipass_identifier`` is free text (here it
holds our ``cust_no``) and is not unique. Delete is a hard delete.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.commerce.exceptions import NotFound, Unprocessable
from instrumented_app.saas_sim.records import (
    Window,
    load_all,
    record_from_json,
    record_to_json,
    same_text,
)
from instrumented_app.saas_sim.table import RecordTable
from instrumented_app.saas_sim.validation import is_email, to_e164

WRITABLE = ("first_name", "last_name", "email", "phone", "multipass_identifier", "note", "tags")
#: Unique in the shop, case-insensitively (phones compared in E.164).
UNIQUE = ("email", "phone")
#: Shopify ids are large numbers; starting high keeps them visibly apart from the other simulators'.
FIRST_ID = 7_000_000_001


@dataclass(frozen=True)
class Customer:
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    multipass_identifier: str | None
    note: str | None
    tags: str
    created_at: datetime
    updated_at: datetime


class CommerceBackend:
    """The customers of one simulated shop; thread-safe."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._customers: RecordTable[int, Customer] = RecordTable(
            key=attrgetter("id"),
            unique={field: attrgetter(field) for field in UNIQUE},
            link=attrgetter("multipass_identifier"),
        )
        self._next_id = FIRST_ID

    def create_customer(
        self,
        fields: Mapping[str, str | None],
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Customer:
        """A new customer; the timestamps default to now (a bulk load passes its own)."""
        with self._lock:
            values = self._checked(fields, existing=None)
            created = (created_at or self._clock.now()).replace(microsecond=0)
            customer = Customer(
                id=self._next_id,
                first_name=values.get("first_name"),
                last_name=values.get("last_name"),
                email=values.get("email"),
                phone=values.get("phone"),
                multipass_identifier=values.get("multipass_identifier"),
                note=values.get("note"),
                tags=values.get("tags") or "",
                created_at=created,
                updated_at=(updated_at or created).replace(microsecond=0),
            )
            self._next_id += 1
            self._customers.put(customer)
            return customer

    def load(self, entries: Sequence[Mapping[str, Any]]) -> int:
        """Create every customer given (with their timestamps) or, on a refusal, none."""
        with self._lock:
            return load_all(entries, self._load_one, lambda c: self._customers.remove(c.id), _rejection)

    def _load_one(self, entry: Mapping[str, Any]) -> Customer:
        fields = {name: entry[name] for name in WRITABLE if name in entry}
        return self.create_customer(fields, entry.get("created_at"), entry.get("updated_at"))

    def get_customer(self, customer_id: int) -> Customer:
        with self._lock:
            customer = self._customers.get(customer_id)
            if customer is None:
                raise NotFound()
            return customer

    def update_customer(self, customer_id: int, fields: Mapping[str, str | None]) -> Customer:
        with self._lock:
            customer = self.get_customer(customer_id)
            values = self._checked(fields, existing=customer)
            if "tags" in values:
                values["tags"] = values["tags"] or ""
            updated = replace(customer, **values, updated_at=self._now())
            self._customers.put(updated)
            return updated

    def delete_customer(self, customer_id: int) -> None:
        with self._lock:
            self.get_customer(customer_id)
            self._customers.remove(customer_id)

    def list_window(
        self,
        limit: int,
        updated_at_min: datetime | None,
        floor_id: int = 0,
        after_id: int | None = None,
        before_id: int | None = None,
    ) -> Window[Customer]:
        """Customers with ids above ``floor_id`` (``since_id``), updated at or after ``updated_at_min``,
        ``limit`` of them just after ``after_id`` or just before ``before_id``."""

        def keep(customer: Customer) -> bool:
            return customer.id > floor_id and (
                updated_at_min is None or customer.updated_at >= updated_at_min
            )

        if before_id is None:
            after_id = max(after_id or 0, floor_id)
        with self._lock:
            return self._customers.by_id(limit, after=after_id, before=before_id, keep=keep)

    def search(self, field: str, value: str) -> list[Customer]:
        """Customers whose ``field`` (email, phone or multipass_identifier) equals ``value``."""
        wanted = (to_e164(value) or value) if field == "phone" else value
        with self._lock:
            if field in UNIQUE:
                holder = self._customers.holder(field, wanted)
                return [] if holder is None else [holder]
            return [c for c in self._customers if same_text(getattr(c, field), wanted)]

    def export_page(
        self, limit: int, key_gte: str | None, key_lt: str | None, after: tuple[str, int] | None
    ) -> tuple[list[Customer], bool]:
        """Customers in ``(multipass_identifier, id)`` order (``table.link_key``); and whether more follow."""
        with self._lock:
            return self._customers.by_link(limit, after=after, key_gte=key_gte, key_lt=key_lt)

    def with_identifiers(self, identifiers: Sequence[str]) -> list[Customer]:
        """Customers whose multipass_identifier is one of ``identifiers`` (case-insensitively)."""
        with self._lock:
            return self._customers.with_links(identifiers)

    def count(self) -> int:
        with self._lock:
            return len(self._customers)

    def reset(self) -> None:
        with self._lock:
            self._customers.clear()
            self._next_id = FIRST_ID

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "next_id": self._next_id,
                "customers": [record_to_json(customer) for customer in self._customers],
            }

    def restore(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            self.reset()
            for item in data.get("customers", []):
                self._customers.put(record_from_json(Customer, item))
            self._next_id = int(data.get("next_id", FIRST_ID))

    def _checked(self, fields: Mapping[str, str | None], existing: Customer | None) -> dict[str, Any]:
        """The writable fields given, after Shopify's checks; every problem is reported at once."""
        values: dict[str, Any] = {name: fields[name] for name in WRITABLE if name in fields}
        errors: dict[str, list[str]] = {}
        email = values.get("email")
        if email:
            if not is_email(email):
                errors.setdefault("email", []).append("is invalid")
            elif self._taken("email", email, existing):
                errors.setdefault("email", []).append("has already been taken")
        phone = values.get("phone")
        if phone:
            normalised = to_e164(phone)
            if normalised is None:
                errors.setdefault("phone", []).append("is invalid")
            else:
                values["phone"] = normalised
                if self._taken("phone", normalised, existing):
                    errors.setdefault("phone", []).append("has already been taken")
        merged = {**(asdict(existing) if existing else {}), **values}
        if not any(merged.get(name) for name in ("first_name", "last_name", "email", "phone")):
            errors.setdefault("customer", []).append("must have a name, phone number or email address")
        if errors:
            raise Unprocessable(errors)
        return values

    def _taken(self, field: str, value: str, existing: Customer | None) -> bool:
        holder = self._customers.holder(field, value)
        return holder is not None and (existing is None or holder.id != existing.id)

    def _now(self) -> datetime:
        return self._clock.now().replace(microsecond=0)


def _rejection(exc: Exception) -> tuple[str, str] | None:
    if isinstance(exc, Unprocessable) and isinstance(exc.errors, dict):
        field, problems = next(iter(exc.errors.items()))
        return field, ", ".join(problems)
    return None
