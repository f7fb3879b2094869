"""The support desk (Zendesk-shaped users): a customer is a user whose ``external_id`` is its cust_no."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import BaseModel, ConfigDict

from instrumented_app.saas_clients.caller import SaasCaller, parse_body
from instrumented_app.saas_clients.policy import RetryPolicy

SYSTEM = "support"


class SupportUserInput(BaseModel):
    name: str
    email: str | None = None
    phone: str | None = None
    external_id: str


class SupportUser(BaseModel):
    """A user as Zendesk returns it; fields we do not use are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    active: bool = True
    created_at: datetime
    updated_at: datetime


class _UserEnvelope(BaseModel):
    user: SupportUser


class _UserList(BaseModel):
    users: list[SupportUser]


class SupportClient:
    """Users of one support desk account, reached through ``http`` (its ``base_url`` is the desk)."""

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.caller = SaasCaller(http, SYSTEM, policy, sleep=sleep)

    def create_user(self, user: SupportUserInput, *, idempotency_key: str) -> SupportUser:
        response = self.caller.call(
            "POST",
            "/api/v2/users.json",
            operation="create_user",
            json_body={"user": user.model_dump(exclude_none=True)},
            idempotency_key=idempotency_key,
        )
        return parse_body(response, _UserEnvelope, SYSTEM, "create_user").user

    def get_user(self, user_id: int) -> SupportUser | None:
        """The user (a deleted one too, with ``active`` false), or None when there is no such id."""
        response = self.caller.call_allowing_404("GET", f"/api/v2/users/{user_id}.json", operation="get_user")
        return None if response is None else parse_body(response, _UserEnvelope, SYSTEM, "get_user").user

    def find_by_external_id(self, external_id: str) -> SupportUser | None:
        """The active user holding ``external_id`` (unique among active users), or None."""
        response = self.caller.call(
            "GET",
            "/api/v2/users/search.json",
            operation="find_user",
            params={"external_id": external_id},
        )
        users = parse_body(response, _UserList, SYSTEM, "find_user").users
        return next((user for user in users if user.active), None)

    def delete_user(self, user_id: int, *, idempotency_key: str) -> bool:
        """Delete (Zendesk: soft delete); False when the user was already gone, which is success too."""
        response = self.caller.call_allowing_404(
            "DELETE",
            f"/api/v2/users/{user_id}.json",
            operation="delete_user",
            idempotency_key=idempotency_key,
        )
        return response is not None
