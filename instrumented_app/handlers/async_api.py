"""``POST /api/async`` (202 + job id), ``GET /api/async/{job_id}`` and ``GET /jobs/{job_id}``: the front door.

The routes live in ``instrumented_app.jobs.api``; this module wires them to the
table and queue the template names in the function's environment, built once
per execution environment (on the first request, so an import never calls AWS).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from instrumented_app.jobs.api import JobsService, register_routes
from instrumented_app.jobs.config import JobsConfig
from instrumented_app.jobs.enqueue import Enqueuer, SqsJobQueue, idempotency_config, idempotent_enqueue
from instrumented_app.jobs.store import DynamoJobStore
from instrumented_app.telemetry import instrumented

app = APIGatewayRestResolver()


@cache
def service() -> JobsService:
    config = JobsConfig()  # read from the environment
    store = DynamoJobStore(config.jobs_table, config.client("dynamodb"))
    enqueuer = Enqueuer(store=store, queue=SqsJobQueue(config.jobs_queue_url, config.client("sqs")))
    if not config.jobs_idempotency_table:
        return JobsService(store=store, enqueuer=enqueuer, keyed_enqueue=None)
    persistence = DynamoDBPersistenceLayer(
        table_name=config.jobs_idempotency_table, boto3_client=config.client("dynamodb")
    )
    idempotency = idempotency_config()
    keyed = idempotent_enqueue(enqueuer, persistence, idempotency)
    return JobsService(store=store, enqueuer=enqueuer, keyed_enqueue=keyed, idempotency=idempotency)


register_routes(app, service)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    service().begin_invocation(context)
    return app.resolve(event, context)
