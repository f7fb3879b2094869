"""Membership (a plain REST member API): a member's ``member_no`` is the cust_no."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import BaseModel, ConfigDict

from instrumented_app.saas_clients.caller import SaasCaller, parse_body
from instrumented_app.saas_clients.policy import RetryPolicy

SYSTEM = "membership"


class MemberInput(BaseModel):
    member_no: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    status: str = "active"


class Member(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    member_no: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    status: str
    created_at: datetime
    updated_at: datetime


class _MemberPage(BaseModel):
    members: list[Member]
    next_cursor: str | None = None


class MembershipClient:
    """Members, reached through ``http`` (its ``base_url`` is the member API)."""

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.caller = SaasCaller(http, SYSTEM, policy, sleep=sleep)

    def create_member(self, member: MemberInput, *, idempotency_key: str) -> Member:
        response = self.caller.call(
            "POST",
            "/members",
            operation="create_member",
            json_body=member.model_dump(exclude_none=True),
            idempotency_key=idempotency_key,
        )
        return parse_body(response, Member, SYSTEM, "create_member")

    def find_by_member_no(self, member_no: str) -> Member | None:
        response = self.caller.call(
            "GET", "/members", operation="find_member", params={"member_no": member_no, "limit": "1"}
        )
        members = parse_body(response, _MemberPage, SYSTEM, "find_member").members
        return members[0] if members else None

    def delete_member(self, member_id: str, *, idempotency_key: str) -> bool:
        """Delete; False when it was already gone (404), which counts as success."""
        response = self.caller.call_allowing_404(
            "DELETE", f"/members/{member_id}", operation="delete_member", idempotency_key=idempotency_key
        )
        return response is not None
