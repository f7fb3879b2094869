"""The one SaaS call a ``sync_member`` job makes: create or update the member for a ``cust_no``.

A small port (``MembershipPort``) so the worker does not care which client
talks to the member API; ``ClientMembership`` puts the app's shared
``MembershipClient`` behind it (retries, headers, spans, error classes).

The queue is the job's retry (visibility timeout, then ``maxReceiveCount``,
then the DLQ), so ``WORKER_POLICY`` makes one attempt per call with short
timeouts, well inside the worker's Lambda timeout. Every write carries the job
id as its ``Idempotency-Key``, so a retried attempt whose first answer was lost
gets the same member rather than a second one.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from instrumented_app.jobs.requests import MemberPayload
from instrumented_app.saas_clients import MemberInput, MembershipClient, RetryPolicy, SaasRejected
from instrumented_app.saas_clients.membership import SYSTEM

#: One attempt per call: a failed job goes back to the queue, which waits and tries again.
WORKER_POLICY = RetryPolicy(max_attempts=1, connect_timeout_s=1.0, read_timeout_s=2.0)
#: The member API's answer when ``member_no`` is already held.
CONFLICT = 409


class MembershipPort(Protocol):
    def upsert_member(self, cust_no: str, member: MemberPayload, idempotency_key: str) -> dict[str, Any]:
        """Create the member ``cust_no`` or update it when it exists; returns ``{"member_id", "action"}``.
        Raises ``instrumented_app.saas_clients.SaasError`` when the member API fails."""


class ClientMembership:
    """``MembershipPort`` on the shared ``MembershipClient``."""

    def __init__(self, client: MembershipClient) -> None:
        self._client = client

    @classmethod
    def at(cls, base_url: str, policy: RetryPolicy = WORKER_POLICY) -> ClientMembership:
        """A client on pooled connections to ``base_url``, kept for the life of the environment."""
        return cls(MembershipClient(httpx.Client(base_url=base_url, timeout=policy.timeout), policy))

    def upsert_member(self, cust_no: str, member: MemberPayload, idempotency_key: str) -> dict[str, Any]:
        fields = member.model_dump(exclude_none=True)
        try:
            created = self._client.create_member(
                MemberInput(member_no=cust_no, **fields), idempotency_key=idempotency_key
            )
        except SaasRejected as exc:
            if exc.status != CONFLICT:
                raise
        else:
            return {"member_id": created.id, "action": "created"}
        existing = self._client.find_by_member_no(cust_no)
        if existing is None:  # deleted between the two calls: the queue's next attempt creates it
            raise SaasRejected(SYSTEM, "find_member", f"member_no {cust_no} conflicted but is gone", 404)
        # MembershipClient has no update call (the customer saga never updates): its caller does the PUT.
        self._client.caller.call(
            "PUT",
            f"/members/{existing.id}",
            operation="update_member",
            json_body=fields,
            idempotency_key=f"{idempotency_key}:update",
        )
        return {"member_id": existing.id, "action": "updated"}
