"""What each job kind does. A kind is one function from the queued message to its result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instrumented_app.jobs.membership import MembershipPort
from instrumented_app.jobs.model import JobMessage

JobAction = Callable[[JobMessage], dict[str, Any]]


def sync_member(membership: MembershipPort) -> JobAction:
    """``sync_member``: the member ``cust_no`` in the membership SaaS, keyed by the job id."""

    def run(message: JobMessage) -> dict[str, Any]:
        outcome = membership.upsert_member(message.cust_no, message.payload, idempotency_key=message.job_id)
        return {"cust_no": message.cust_no, **outcome}

    return run


def default_actions(membership: MembershipPort) -> Mapping[str, JobAction]:
    """Every kind ``JobKind`` names, wired to its backend."""
    return {"sync_member": sync_member(membership)}
