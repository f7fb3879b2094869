"""Commerce (Shopify-shaped customers): a customer carries its cust_no as ``multipass_identifier``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import BaseModel, ConfigDict

from instrumented_app.saas_clients.caller import SaasCaller, parse_body
from instrumented_app.saas_clients.policy import RetryPolicy

SYSTEM = "commerce"
DEFAULT_API_VERSION = "2024-10"


class CommerceCustomerInput(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    multipass_identifier: str


class CommerceCustomer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    multipass_identifier: str | None = None
    created_at: datetime
    updated_at: datetime


class _CustomerEnvelope(BaseModel):
    customer: CommerceCustomer


class _CustomerList(BaseModel):
    customers: list[CommerceCustomer]


class CommerceClient:
    """Customers of one shop, reached through ``http`` (its ``base_url`` is the shop)."""

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy | None = None,
        api_version: str = DEFAULT_API_VERSION,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.caller = SaasCaller(http, SYSTEM, policy, sleep=sleep)
        self.prefix = f"/admin/api/{api_version}"

    def create_customer(self, customer: CommerceCustomerInput, *, idempotency_key: str) -> CommerceCustomer:
        response = self.caller.call(
            "POST",
            f"{self.prefix}/customers.json",
            operation="create_customer",
            json_body={"customer": customer.model_dump(exclude_none=True)},
            idempotency_key=idempotency_key,
        )
        return parse_body(response, _CustomerEnvelope, SYSTEM, "create_customer").customer

    def find_by_multipass(self, multipass_identifier: str) -> list[CommerceCustomer]:
        """Every customer with this identifier (Shopify does not make it unique)."""
        response = self.caller.call(
            "GET",
            f"{self.prefix}/customers/search.json",
            operation="find_customers",
            params={"query": f"multipass_identifier:{multipass_identifier}"},
        )
        return parse_body(response, _CustomerList, SYSTEM, "find_customers").customers

    def delete_customer(self, customer_id: int, *, idempotency_key: str) -> bool:
        """Delete; False when it was already gone (404), which counts as success."""
        response = self.caller.call_allowing_404(
            "DELETE",
            f"{self.prefix}/customers/{customer_id}.json",
            operation="delete_customer",
            idempotency_key=idempotency_key,
        )
        return response is not None
