"""The one SaaS call a ``sync_member`` job makes: create or update the member for a ``cust_no``.

A small port (``MembershipPort``) with an httpx backend, so the worker does not
care which client talks to the member API; the app's shared SaaS clients
(``instrumented_app.saas_clients``) can stand behind the same port.

No retries in here: the queue is the retry (visibility timeout, then
``maxReceiveCount``, then the DLQ), so a failure is raised at once with the
status and the API's error code. Every write carries the job id as its
``Idempotency-Key``, so a retried attempt whose first answer was lost gets the
same member rather than a second one.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from instrumented_app.jobs.model import MemberPayload
from instrumented_app.telemetry import outgoing_headers, tracer
from sagawatch.contracts import IDEMPOTENCY_KEY_HEADER

#: Seconds for one call to the member API; well inside the worker's Lambda timeout.
CALL_TIMEOUT_S = 2.0


class SaasCallFailed(Exception):
    """A SaaS answered with an error (or not at all); ``error_code`` is what the log line carries."""

    error_code = "MEMBERSHIP_CALL_FAILED"

    def __init__(self, operation: str, status: int | None, detail: str) -> None:
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"membership {operation}: {where}: {detail}")
        self.status = status


class MembershipPort(Protocol):
    def upsert_member(self, cust_no: str, member: MemberPayload, idempotency_key: str) -> dict[str, Any]:
        """Create the member ``cust_no`` or update it when it exists; returns ``{"member_id", "action"}``."""


class HttpMembership:
    """``MembershipPort`` over the plain REST member API (``/members``)."""

    def __init__(self, client: httpx.Client) -> None:
        self._http = client

    @classmethod
    def at(cls, base_url: str) -> HttpMembership:
        return cls(httpx.Client(base_url=base_url, timeout=CALL_TIMEOUT_S))

    def upsert_member(self, cust_no: str, member: MemberPayload, idempotency_key: str) -> dict[str, Any]:
        fields = member.model_dump(exclude_none=True)
        with tracer.start_as_current_span("membership upsert member", attributes={"cust_no": cust_no}):
            created = self._call(
                "create member", "POST", "/members", {"member_no": cust_no, **fields}, idempotency_key
            )
            if created.status_code == 201:
                return {"member_id": created.json()["id"], "action": "created"}
            if created.status_code != 409:
                raise _failure("create member", created)
            existing = self._find(cust_no)
            updated = self._call(
                "update member", "PUT", f"/members/{existing}", fields, f"{idempotency_key}:update"
            )
            if updated.status_code != 200:
                raise _failure("update member", updated)
            return {"member_id": existing, "action": "updated"}

    def _find(self, cust_no: str) -> str:
        found = self._call("find member", "GET", "/members", None, None, params={"member_no": cust_no})
        if found.status_code != 200:
            raise _failure("find member", found)
        members = found.json().get("members") or []
        if not members:
            raise SaasCallFailed("find member", 200, f"member_no {cust_no} conflicted but cannot be found")
        return str(members[0]["id"])

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        idempotency_key: str | None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = outgoing_headers()
        if idempotency_key:
            headers[IDEMPOTENCY_KEY_HEADER] = idempotency_key
        try:
            return self._http.request(method, path, json=body, headers=headers, params=params)
        except httpx.HTTPError as exc:
            raise SaasCallFailed(operation, None, f"{type(exc).__name__}: {exc}") from exc


def _failure(operation: str, response: httpx.Response) -> SaasCallFailed:
    try:
        error = response.json().get("error") or {}
        detail = f"{error.get('code', 'error')}: {error.get('message', '')}".strip()
    except ValueError:
        detail = response.text[:200]
    return SaasCallFailed(operation, response.status_code, detail)
