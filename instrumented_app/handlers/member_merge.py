"""``POST /members/merge`` runs the member merge saga (名寄せ) and answers with how it ended.

Answers: 200 when the merge SUCCEEDED; 202 when it stopped past its point of
no return (``MANUAL_INTERVENTION``: the body carries the runbook entry a person
follows, and ``sagawatch saga resume ID`` finishes it); 409 when the merge was
refused (a customer missing, inactive or in another merge) and nothing
changed; 502 when a SaaS failed before the point of no return and the merge
was compensated.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import ValidationError

from instrumented_app.orders.model import faults_allowed
from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.sagas.answers import saga_view
from instrumented_app.sagas.member_merge import SAGA_TYPE, MergeRequest, create_member_merge
from instrumented_app.sagas.member_merge_store import MergeStore
from instrumented_app.sagas.records import SagaRecord
from instrumented_app.sagas.runner import SagaRunner, open_runner
from instrumented_app.telemetry import (
    bind_saga,
    current_correlation_id,
    instrumented,
    log_error,
    logger,
    metrics,
)
from sagawatch.contracts import SagaStatus

app = APIGatewayRestResolver()
_runner: SagaRunner | None = None


def runner() -> SagaRunner:
    """One runner per execution environment (a dead Aurora connection gets a new one)."""
    global _runner
    if _runner is not None and _runner.conn.closed:
        _runner.close()
        _runner = None
    if _runner is None:
        _runner = open_runner(os.environ["DATABASE_URL"], SaasEndpoints(), on_step=_bind_step)
    return _runner


def _bind_step(saga_id: str, saga_type: str, step: str, direction: str) -> None:
    bind_saga(saga_id=saga_id, saga_type=saga_type, saga_step=step)
    logger.info("saga step %s: %s", direction, step, extra={"direction": direction})


def merge_status(record: SagaRecord) -> int:
    status = record.state.status
    if status is SagaStatus.SUCCEEDED:
        return 200
    if status is SagaStatus.MANUAL_INTERVENTION:
        return 202
    refused = (record.state.last_error or "").split(": ", 1)[-1].startswith("[MERGE_REFUSED]")
    return 409 if refused else 502


def _problem(status: int, message: str, **fields: Any) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, **fields}
    )


@app.post("/members/merge")
def post_merge() -> Response[Any]:
    try:
        request = MergeRequest.model_validate(app.current_event.json_body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors()
        ]
        return _problem(400, "Invalid request body", errors=errors)
    if request.faults is not None and not faults_allowed():
        return _problem(400, "Invalid request body", errors=[{"field": "faults", "message": "not enabled"}])
    run = runner()
    definition = run.definitions[SAGA_TYPE]
    saga_id = create_member_merge(run.engine, definition, request, current_correlation_id() or "")
    bind_saga(saga_id=saga_id, saga_type=SAGA_TYPE)
    record = run.resume(saga_id)
    status = record.state.status
    metrics.add_metric(name=f"MemberMerge{status.value.title().replace('_', '')}", unit="Count", value=1)
    body: dict[str, Any] = saga_view(record)
    body["cust_nos"] = record.payload.get("cust_nos")
    if status is SagaStatus.SUCCEEDED:
        logger.info("member merge succeeded", extra={"cust_nos": body["cust_nos"]})
    else:
        log_error(
            "member merge did not succeed",
            error_code="MEMBER_MERGE_MANUAL_INTERVENTION"
            if status is SagaStatus.MANUAL_INTERVENTION
            else "MEMBER_MERGE_FAILED",
            saga_status=status.value,
            failed_step=record.failed_step,
        )
        runbook = MergeStore(run.conn).runbook(saga_id)
        if runbook is not None:
            body["runbook"] = {
                k: v for k, v in runbook.items() if k in ("done", "remaining", "commands", "diff")
            }
    return Response(status_code=merge_status(record), content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response[Any]:
    """Aurora unreachable, say: a JSON 502 naming the error (a started saga stays, for ``resume``)."""
    code = getattr(exc, "error_code", None) or "MEMBER_MERGE_UNEXPECTED_ERROR"
    log_error("member merge request failed", error_code=code, exc_info=exc)
    return _problem(502, f"{type(exc).__name__} while handling the request", error_code=code)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
