"""``POST /api/async`` and ``GET /api/async/{job_id}`` (alias ``GET /jobs/{job_id}``) as Powertools
routes, apart from their wiring.

``register_routes(app, service)`` adds the routes to a REST resolver; the
handler module passes a factory that builds the real store and queue once per
execution environment, tests pass their own.

Answers: 202 with ``{"job_id", "status", "status_url"}`` and ``Location``;
400 naming each bad field (the value itself is never echoed); 422 for an
``Idempotency-Key`` reused with another body; 409 while the first request with
that key is still running; 404 for an unknown job; 503 when the job could not
be queued.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from instrumented_app.jobs.enqueue import Enqueuer, JobNotQueued, KeyedRequest
from instrumented_app.jobs.model import Job
from instrumented_app.jobs.requests import JobRequest, RequestInvalid, parse_request
from instrumented_app.jobs.store import JobStore
from instrumented_app.telemetry import current_correlation_id, log_error, logger, metrics
from sagawatch.contracts import IDEMPOTENCY_KEY_HEADER

#: Longest ``Idempotency-Key`` accepted (the common limit of SaaS APIs).
MAX_IDEMPOTENCY_KEY = 255
STATUS_PATH = "/api/async"
#: ``GET /jobs/{job_id}``: the same status under the name issue 3 gives it.
JOBS_PATH = "/jobs"


@dataclass(frozen=True)
class JobsService:
    store: JobStore
    enqueuer: Enqueuer
    #: ``enqueuer.enqueue`` behind idempotency; None when no idempotency table is configured.
    keyed_enqueue: Callable[[KeyedRequest], Job] | None
    #: The idempotency config, on which each invocation registers its Lambda context.
    idempotency: IdempotencyConfig | None = None

    def begin_invocation(self, context: Any) -> None:
        """Per invocation: lets an in-progress idempotency record expire with the invocation."""
        if self.idempotency is not None and context is not None:
            self.idempotency.register_lambda_context(context)


def status_url(job_id: str) -> str:
    return f"{STATUS_PATH}/{job_id}"


def register_routes(app: APIGatewayRestResolver, service: Callable[[], JobsService]) -> None:
    @app.post(STATUS_PATH)
    def create_job() -> Response[Any]:
        request, problem = _read_request(app.current_event.body)
        if problem is not None:
            return problem
        assert request is not None
        key = app.current_event.headers.get(IDEMPOTENCY_KEY_HEADER)
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            return _bad_request(IDEMPOTENCY_KEY_HEADER, f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        jobs = service()
        try:
            job = _enqueue(jobs, request, key)
        except IdempotencyValidationError:
            return _error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{IDEMPOTENCY_KEY_HEADER} was already used with a different request body",
            )
        except IdempotencyAlreadyInProgressError:
            return _error(
                HTTPStatus.CONFLICT, f"a request with this {IDEMPOTENCY_KEY_HEADER} is still being accepted"
            )
        except JobNotQueued as exc:
            log_error("job not queued", error_code=exc.error_code, exc_info=exc)
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "the job could not be queued; try again")
        metrics.add_metric(name="JobAccepted", unit=MetricUnit.Count, value=1)
        logger.info("job accepted", extra={"job_id": job.job_id, "kind": job.kind})
        url = status_url(job.job_id)
        return Response(
            status_code=HTTPStatus.ACCEPTED,
            content_type=content_types.APPLICATION_JSON,
            body={"job_id": job.job_id, "status": job.status.value, "status_url": url},
            headers={"Location": url},
        )

    @app.get(f"{STATUS_PATH}/<job_id>")
    @app.get(f"{JOBS_PATH}/<job_id>")
    def get_job(job_id: str) -> Response[Any]:
        job = service().store.get(job_id)
        if job is None:
            return _error(HTTPStatus.NOT_FOUND, f"job {job_id} does not exist")
        return Response(
            status_code=HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=job.status_view(),
        )


def _enqueue(jobs: JobsService, request: JobRequest, key: str | None) -> Job:
    correlation_id = current_correlation_id()
    if key is None or jobs.keyed_enqueue is None:
        return jobs.enqueuer.enqueue(request, correlation_id)
    first = jobs.keyed_enqueue(
        KeyedRequest(idempotency_key=key, request=request, correlation_id=correlation_id)
    )
    return jobs.store.get(first.job_id) or first  # a repeat shows the job as it is now


def _read_request(body: str | None) -> tuple[JobRequest | None, Response[Any] | None]:
    try:
        document = json.loads(body or "")
    except json.JSONDecodeError:
        return None, _bad_request("body", "is not a JSON document")
    try:
        return parse_request(document), None
    except RequestInvalid as exc:
        return None, _invalid([{"field": field, "problem": problem} for field, problem in exc.problems])


def _bad_request(field: str, problem: str) -> Response[Any]:
    return _invalid([{"field": field, "problem": problem}])


def _invalid(errors: list[dict[str, str]]) -> Response[Any]:
    return Response(
        status_code=HTTPStatus.BAD_REQUEST,
        content_type=content_types.APPLICATION_JSON,
        body={"message": "Invalid request body", "errors": errors},
    )


def _error(status: HTTPStatus, message: str) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message}
    )
