"""``POST /customers`` runs the customer saga; ``GET /sagas/{saga_id}`` shows any saga with its steps.

The API front has already refused a body without ``cust_no`` (the
gatekeeper); the handler validates again before anything is written. A
request with an ``Idempotency-Key`` header runs once: a repeat gets the first
answer from Powertools idempotency (DynamoDB, the template's table) and starts
nothing; the same key with another body is 422, a repeat while the first
still runs 409.

Answers: 201 with the saga when it SUCCEEDED; when it did not, the saga id,
its status and the failing step, as 409 (the customer or a SaaS refused it)
or 502 (a SaaS could not be reached) -- never a bare 500.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import ValidationError

from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.sagas.answers import error_code_of, http_status, saga_view
from instrumented_app.sagas.customer import saga_id_for_key
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.records import SagaNotFound
from instrumented_app.sagas.runner import SagaBusy, SagaRunner, open_runner
from instrumented_app.telemetry import (
    bind_saga,
    current_correlation_id,
    instrumented,
    log_error,
    logger,
    metrics,
)
from sagawatch.contracts import IDEMPOTENCY_KEY_HEADER

IDEMPOTENCY_TABLE_ENV = "IDEMPOTENCY_TABLE"

app = APIGatewayRestResolver()
idempotency_config = IdempotencyConfig(
    event_key_jmespath="key", payload_validation_jmespath="body", expires_after_seconds=24 * 3600
)
persistence = DynamoDBPersistenceLayer(
    table_name=os.environ.get(IDEMPOTENCY_TABLE_ENV, "sw-customers-idempotency")
)
_runner: SagaRunner | None = None


def runner() -> SagaRunner:
    """One runner per execution environment: the Aurora connection and SaaS pools outlive invocations."""
    global _runner
    if _runner is not None and _runner.conn.closed:
        _runner.close()  # Aurora went away under it: its SaaS pools go with it
        _runner = None
    if _runner is None:
        _runner = open_runner(os.environ["DATABASE_URL"], SaasEndpoints.from_env(), on_step=_bind_step)
    return _runner


def _bind_step(saga_id: str, saga_type: str, step: str, direction: str) -> None:
    """Every following line carries the saga fields; one line marks each step (and compensation)."""
    bind_saga(saga_id=saga_id, saga_type=saga_type, saga_step=step)
    logger.info("saga step %s: %s", direction, step, extra={"direction": direction})


def create_customer(customer: NewCustomer, correlation_id: str, saga_id: str | None = None) -> dict[str, Any]:
    """Run the saga; the answer as ``{"status_code": ..., "body": ...}`` (what idempotency keeps)."""
    record = runner().start_customer(customer, correlation_id, saga_id=saga_id)
    status = http_status(record)
    metrics.add_metric(name=f"CustomerSaga{record.state.status.value.title()}", unit="Count", value=1)
    if status == 201:
        logger.info("customer saga succeeded", extra={"cust_no": customer.cust_no})
    else:
        log_error(
            "customer saga did not succeed",
            error_code=error_code_of(record) or "CUSTOMER_SAGA_FAILED",
            saga_status=record.state.status.value,
            failed_step=record.failed_step,
            cust_no=customer.cust_no,
        )
    return {"status_code": status, "body": saga_view(record)}


@idempotent_function(
    data_keyword_argument="request", config=idempotency_config, persistence_store=persistence
)
def create_customer_once(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` is ``{"key": Idempotency-Key, "body": the JSON body, "correlation_id": ...}``."""
    # The saga id follows from the key: when a crashed invocation's record expires and the client
    # retries, the retry resumes that saga instead of starting a second one for the same customer.
    return create_customer(
        NewCustomer.model_validate(request["body"]),
        request["correlation_id"],
        saga_id=saga_id_for_key(request["key"]),
    )


def _idempotency_key() -> str | None:
    for name, value in (app.current_event.headers or {}).items():
        if name.lower() == IDEMPOTENCY_KEY_HEADER.lower() and value:
            return value
    return None


def _problem(status: int, message: str, **fields: Any) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, **fields}
    )


@app.post("/customers")
def post_customer() -> Response[Any]:
    try:
        body = app.current_event.json_body
    except ValueError:
        return _problem(400, "Invalid request body", errors=[{"field": "body", "message": "not valid JSON"}])
    try:
        customer = NewCustomer.model_validate(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors()
        ]
        return _problem(400, "Invalid request body", errors=errors)
    correlation_id = current_correlation_id() or ""
    key = _idempotency_key()
    try:
        if key is None:
            answer = create_customer(customer, correlation_id)
        else:
            answer = create_customer_once(
                request={
                    "key": key,
                    "body": customer.model_dump(mode="json"),
                    "correlation_id": correlation_id,
                }
            )
    except IdempotencyValidationError:
        return _problem(422, f"{IDEMPOTENCY_KEY_HEADER} was already used with a different body")
    except SagaBusy as exc:
        return _problem(409, str(exc), saga_id=exc.saga_id)
    except IdempotencyAlreadyInProgressError:
        return _problem(409, f"a request with this {IDEMPOTENCY_KEY_HEADER} is still being processed")
    return Response(
        status_code=answer["status_code"], content_type=content_types.APPLICATION_JSON, body=answer["body"]
    )


@app.get("/sagas/<saga_id>")
def get_saga(saga_id: str) -> Response[Any]:
    try:
        record = runner().store.load(saga_id)
    except SagaNotFound:
        return _problem(404, f"no saga with id {saga_id!r}")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=saga_view(record))


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response[Any]:
    """Aurora or DynamoDB unreachable, say: a JSON 502 naming the error, never a bare 500.
    (A saga that had started is left as recorded, for ``sagawatch saga resume``.)"""
    code = getattr(exc, "error_code", None) or "CUSTOMERS_UNEXPECTED_ERROR"
    log_error("customers request failed", error_code=code, exc_info=exc)
    return _problem(502, f"{type(exc).__name__} while handling the request", error_code=code)


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
