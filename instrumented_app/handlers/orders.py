"""``POST /orders`` starts the order saga on Step Functions; ``GET /orders/{order_id}`` shows how it went
(its latest execution: the first, or the last redrive re-run).

The execution is named after the order id, so a repeated request starts
nothing: Step Functions answers ``ExecutionAlreadyExists`` and the client gets
the existing execution (200) instead of a new one (202). The execution input
carries ``correlation_id`` and ``traceparent``, so every task's logs and spans
join the request's trace.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from pydantic import ValidationError

from instrumented_app.orders.config import OrdersConfig
from instrumented_app.orders.ledger import DynamoDBTaskLedger, TaskRecord
from instrumented_app.orders.model import OrderRequest, execution_input, faults_allowed
from instrumented_app.orders.redrive import latest_execution
from instrumented_app.telemetry import current_correlation_id, instrumented, log_error, logger, trace_fields

app = APIGatewayRestResolver()


@cache
def config() -> OrdersConfig:
    return OrdersConfig()


@cache
def sfn() -> Any:
    return config().client("stepfunctions")


def _machine_arn() -> str:
    arn = config().order_saga_arn
    if not arn:
        raise RuntimeError("ORDER_SAGA_ARN is not set: the template names the state machine")
    return arn


def execution_arn(machine_arn: str, name: str) -> str:
    """``arn:...:stateMachine:M`` -> ``arn:...:execution:M:name`` (how Step Functions names executions)."""
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def task_status(record: TaskRecord) -> str:
    """DONE or COMPENSATED as recorded; a task with only failures counted is FAILED."""
    return record.status or ("FAILED" if record.failures or record.transient_failures else "PENDING")


def _problem(status: int, message: str, **fields: Any) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, **fields}
    )


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.post("/orders")
def post_order() -> Response[Any]:
    try:
        order = OrderRequest.model_validate(app.current_event.json_body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors()
        ]
        return _problem(400, "Invalid request body", errors=errors)
    if order.faults is not None and not faults_allowed():
        return _problem(400, "Invalid request body", errors=[{"field": "faults", "message": "not enabled"}])
    logger.append_keys(order_id=order.order_id, saga_type="order")
    machine = _machine_arn()
    client = sfn()
    try:
        started = client.start_execution(
            stateMachineArn=machine,
            name=order.order_id,
            input=json.dumps(execution_input(order, trace_fields())),
        )
    except client.exceptions.ExecutionAlreadyExists:
        existing = client.describe_execution(executionArn=execution_arn(machine, order.order_id))
        logger.info("order already has an execution: none started", extra={"status": existing["status"]})
        return _json(
            200,
            {
                "order_id": order.order_id,
                "execution_arn": existing["executionArn"],
                "status": existing["status"],
                "duplicate": True,
            },
        )
    logger.info("order saga started", extra={"execution_arn": started["executionArn"]})
    return _json(
        202,
        {
            "order_id": order.order_id,
            "execution_arn": started["executionArn"],
            "status": "RUNNING",
            "duplicate": False,
            "correlation_id": current_correlation_id(),
        },
    )


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response[Any]:
    client = sfn()
    try:
        described = latest_execution(client, execution_arn(_machine_arn(), order_id))
    except client.exceptions.ExecutionDoesNotExist:
        return _problem(404, f"no order {order_id!r}")
    tasks = DynamoDBTaskLedger(config().client("dynamodb"), config().order_tasks_table).records(order_id)
    return _json(
        200,
        {
            "order_id": order_id,
            "execution_arn": described["executionArn"],
            "status": described["status"],
            "error": described.get("error"),
            "tasks": {
                t.task: {"status": task_status(t), "generation": t.generation, **t.result} for t in tasks
            },
        },
    )


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response[Any]:
    """Step Functions or DynamoDB unreachable, say: a JSON 502 naming the error, never a bare 500."""
    log_error("orders request failed", error_code="ORDERS_UNEXPECTED_ERROR", exc_info=exc)
    return _problem(
        502, f"{type(exc).__name__} while handling the request", error_code="ORDERS_UNEXPECTED_ERROR"
    )


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
