"""What each job kind does: one function from the job id and its request to the job's result.

An action raises to fail the attempt (the queue retries it), or raises
``FinalOutcome`` when the work has reached an end no retry can change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from instrumented_app.jobs.membership import MembershipPort
from instrumented_app.jobs.requests import CreateCustomerRequest, JobRequest, SyncMemberRequest
from instrumented_app.jobs.sagas import CustomerSagas
from instrumented_app.sagas.runner import SagaBusy
from instrumented_app.telemetry import current_correlation_id
from sagawatch.contracts import SagaStatus, mint_correlation_id

JobAction = Callable[[str, JobRequest], dict[str, Any]]
#: Saga ids of jobs are derived from the job id in this namespace, so every attempt finds the same saga.
JOB_SAGA_NAMESPACE = uuid.UUID("5f0c3c39-6d8e-4c1e-9a53-7a3c1f6a2b10")


class FinalOutcome(Exception):
    """The job's work ended in a way no retry changes (the job is ``FAILED`` at once, not retried)."""

    error_code = "JOB_FINAL_FAILURE"


class RunningElsewhere(Exception):
    """Another delivery of the job's message is doing its work right now (SQS delivers at least once):
    this delivery comes back later, and the job's record is left to the one that runs."""

    error_code = "JOB_RUNNING_ELSEWHERE"


class WrongRequest(TypeError):
    error_code = "JOB_MESSAGE_INVALID"


def sync_member(membership: MembershipPort) -> JobAction:
    """``sync_member``: the member ``cust_no`` in the membership SaaS, keyed by the job id."""

    def run(job_id: str, request: JobRequest) -> dict[str, Any]:
        if not isinstance(request, SyncMemberRequest):
            raise WrongRequest(f"kind: sync_member cannot run a {request.kind} request")
        outcome = membership.upsert_member(request.cust_no, request.payload, idempotency_key=job_id)
        return {"cust_no": request.cust_no, **outcome}

    return run


def saga_id_for(job_id: str) -> str:
    return str(uuid.uuid5(JOB_SAGA_NAMESPACE, job_id))


def create_customer(sagas: CustomerSagas) -> JobAction:
    """``create_customer``: the customer saga, with a saga id derived from the job id so that a retried
    or redriven job resumes its saga rather than starting a second one."""

    def run(job_id: str, request: JobRequest) -> dict[str, Any]:
        if not isinstance(request, CreateCustomerRequest):
            raise WrongRequest(f"kind: create_customer cannot run a {request.kind} request")
        saga_id = saga_id_for(job_id)
        correlation_id = current_correlation_id() or mint_correlation_id()
        try:
            outcome = sagas.run_customer(request.payload.customer(request.cust_no), saga_id, correlation_id)
        except SagaBusy as exc:
            raise RunningElsewhere(str(exc)) from exc
        if outcome.status is SagaStatus.SUCCEEDED:
            return {"cust_no": request.cust_no, "saga_id": saga_id, "saga_status": outcome.status.value}
        detail = f"saga {saga_id} ended {outcome.status.value}"
        if outcome.failed_step:
            detail += f" (failed step {outcome.failed_step}: {outcome.error})"
        if outcome.terminal:
            raise FinalOutcome(detail)
        raise RuntimeError(f"saga {saga_id} is {outcome.status.value}, not finished: retried")

    return run


def default_actions(membership: MembershipPort, sagas: CustomerSagas) -> Mapping[str, JobAction]:
    """Every kind ``JobKind`` names, wired to its backend."""
    return {"sync_member": sync_member(membership), "create_customer": create_customer(sagas)}
