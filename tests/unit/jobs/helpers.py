"""Helpers of the jobs tests: resources, requests, a clock, and a worker harness on real SQS messages."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from instrumented_app.jobs.actions import default_actions
from instrumented_app.jobs.enqueue import Enqueuer, SqsJobQueue
from instrumented_app.jobs.model import Job
from instrumented_app.jobs.redrive import JobsQueues
from instrumented_app.jobs.requests import MemberPayload, SyncMemberRequest
from instrumented_app.jobs.sagas import SagaOutcome
from instrumented_app.jobs.store import DynamoJobStore
from instrumented_app.jobs.worker import Worker
from instrumented_app.runtime.pollers.events import sqs_event
from instrumented_app.saas_clients import SaasUnavailable
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.runner import SagaBusy
from sagawatch.contracts import SagaStatus
from sagawatch.stack_info import StackInfo

REGION = "us-east-1"
MAX_RECEIVES = 3


@dataclass
class Aws:
    endpoint: str
    sqs: Any
    dynamodb: Any


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def job_request(cust_no: str = "C0001", **extra: Any) -> SyncMemberRequest:
    fields = {"full_name": "Hanako Yamada", "email": "hanako@example.com", **extra}
    return SyncMemberRequest(
        kind="sync_member", cust_no=cust_no, payload=MemberPayload.model_validate(fields)
    )


class StepClock:
    """A clock that moves one second per reading, so timestamps show the order of changes."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class FakeMembership:
    """Members by cust_no; a cust_no in ``failing`` answers like a broken API."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = failing or set()
        self.calls: list[tuple[str, str]] = []

    def upsert_member(self, cust_no: str, member: MemberPayload, idempotency_key: str) -> dict[str, Any]:
        self.calls.append((cust_no, idempotency_key))
        if cust_no in self.failing:
            raise SaasUnavailable(
                "membership",
                "create_member",
                f"HTTP 503: down (ask {member.email})",
                status=503,
                retryable=True,
            )
        return {"member_id": f"mbr_{cust_no}", "action": "created"}


class FakeSagas:
    """Customer sagas that end as ``outcomes`` says for their cust_no (SUCCEEDED otherwise); those of
    ``busy`` are being run by another process (``SagaBusy``)."""

    def __init__(self) -> None:
        self.outcomes: dict[str, SagaOutcome] = {}
        self.busy: set[str] = set()
        self.runs: list[tuple[str, str, str]] = []

    def run_customer(self, customer: NewCustomer, saga_id: str, correlation_id: str) -> SagaOutcome:
        if customer.cust_no in self.busy:
            raise SagaBusy(saga_id)
        self.runs.append((customer.cust_no, saga_id, correlation_id))
        return self.outcomes.get(customer.cust_no, SagaOutcome(SagaStatus.SUCCEEDED))


class Harness:
    def __init__(
        self,
        aws: Aws,
        store: DynamoJobStore,
        queues: JobsQueues,
        membership: FakeMembership,
        sagas: FakeSagas | None = None,
    ) -> None:
        sagas = sagas or FakeSagas()
        self.aws, self.store, self.queues = aws, store, queues
        self.enqueuer = Enqueuer(
            store=store, queue=SqsJobQueue(queues.source_url, aws.sqs), clock=StepClock()
        )
        self.enqueued: list[str] = []
        self.worker = Worker(
            store=store,
            actions=default_actions(membership, sagas),
            max_receive_count=MAX_RECEIVES,
            clock=StepClock(),
        )

    def enqueue(self, cust_no: str) -> Job:
        job = self.enqueuer.enqueue(job_request(cust_no), f"corr-{cust_no}")
        self.enqueued.append(job.job_id)
        return job

    def receive(self) -> list[dict[str, Any]]:
        """One receive of everything visible (the queue makes messages visible again at once)."""
        return list(
            self.aws.sqs.receive_message(
                QueueUrl=self.queues.source_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def deliver(self, messages: list[dict[str, Any]]) -> list[str]:
        """Run one batch as Lambda would; returns the message ids reported as failed."""
        event = sqs_event(messages, self.queues.source_arn, REGION)
        response = self.worker.handle_batch(event, None)
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def job(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        assert job is not None
        return job


def by_body(messages: list[dict[str, Any]]) -> dict[str, str]:
    """job id (or the raw body when it is not a job message) -> message id."""
    found = {}
    for message in messages:
        try:
            key = json.loads(message["Body"])["job_id"]
        except (ValueError, KeyError):
            key = message["Body"]
        found[key] = message["MessageId"]
    return found


def write_stack_file(home: Path, aws_endpoint: str) -> None:
    """A stack file naming this process (alive) and the test's moto server, as ``sagawatch up`` writes it."""
    StackInfo(
        pid=os.getpid(),
        started_at="2026-01-01T00:00:00+00:00",
        region="us-east-1",
        aws_endpoint=aws_endpoint,
        api_endpoint="http://127.0.0.1:2",
        otlp_endpoint="http://127.0.0.1:3",
        aurora_url="postgresql://localhost/aurora",
        audit_url="postgresql://localhost/audit",
    ).write(home / "stack.json")
