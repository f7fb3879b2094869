"""The queue worker Lambda: SQS batches of job messages, partial batch failures reported.

The logic is ``instrumented_app.jobs.worker.Worker``; this module wires it to the
table, the queue's ``maxReceiveCount`` (read from the queue's own redrive
policy, so the template states it once), the membership SaaS, and the customer
saga (Aurora and the three SaaS, opened by the first ``create_customer`` job).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from instrumented_app.jobs.actions import default_actions
from instrumented_app.jobs.backoff import VisibilityBackoff
from instrumented_app.jobs.config import JobsConfig
from instrumented_app.jobs.membership import ClientMembership
from instrumented_app.jobs.sagas import RunnerCustomerSagas
from instrumented_app.jobs.store import DynamoJobStore
from instrumented_app.jobs.worker import Worker
from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.sagas.runner import SagaRunner, open_runner
from instrumented_app.telemetry import bind_saga, instrumented, logger


def max_receive_count(sqs: Any, queue_url: str) -> int | None:
    """The queue's ``maxReceiveCount``, or None when it has no redrive policy (no DLQ)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    return int(json.loads(policy)["maxReceiveCount"]) if policy else None


@cache
def worker() -> Worker:
    config = JobsConfig()  # read from the environment
    if not config.sagawatch_membership_url:
        raise RuntimeError("SAGAWATCH_MEMBERSHIP_URL is not set: the worker has no membership API to call")
    return Worker(
        store=DynamoJobStore(config.jobs_table, config.client("dynamodb")),
        actions=default_actions(
            ClientMembership.at(config.sagawatch_membership_url),
            RunnerCustomerSagas(lambda: _open_runner(config)),
        ),
        max_receive_count=max_receive_count(config.client("sqs"), config.jobs_queue_url),
        backoff=VisibilityBackoff(config.client("sqs"), config.jobs_queue_url),
    )


def _open_runner(config: JobsConfig) -> SagaRunner:
    """Aurora and the three SaaS clients, opened by the first create_customer job of this environment."""
    if not config.database_url:
        raise RuntimeError("DATABASE_URL is not set: a create_customer job needs Aurora")
    return open_runner(config.database_url, SaasEndpoints(), on_step=_bind_step)


def _bind_step(saga_id: str, saga_type: str, step: str, direction: str) -> None:
    """The saga fields on every following log line of this record, and one line per step."""
    bind_saga(saga_id=saga_id, saga_type=saga_type, saga_step=step)
    logger.info("saga step %s: %s", direction, step, extra={"direction": direction})


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return worker().handle_batch(event, context)
