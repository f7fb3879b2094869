"""The order saga's Step Functions tasks: one handler per ASL state, each idempotent per order and task.

Step Functions passes the execution state as the event; ``correlation_id`` and
``traceparent`` at its top are what ``@instrumented`` reads, so every task's
logs and span carry the order's correlation id. A raised ``TransientError`` is
retried by the ASL with backoff, any other error is caught into compensation.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from instrumented_app.orders.config import OrdersConfig
from instrumented_app.orders.ledger import DynamoDBTaskLedger
from instrumented_app.orders.tasks import UNDOES, WORK, compensate, order_id_of, run_task
from instrumented_app.telemetry import current_correlation_id, instrumented, logger, metrics


@cache
def ledger() -> DynamoDBTaskLedger:
    """One client per execution environment (built on the first task, so an import never calls AWS)."""
    config = OrdersConfig()
    return DynamoDBTaskLedger(config.client("dynamodb"), config.order_tasks_table)


def _forward(task: str, event: dict[str, Any]) -> dict[str, Any]:
    logger.append_keys(order_id=order_id_of(event), saga_type="order", saga_step=task)
    result = run_task(ledger(), event, task, WORK[task], current_correlation_id() or "")
    if result.get("skipped"):
        logger.info("order task already done: recorded result returned", extra={"task": task})
    else:
        logger.info("order task done", extra={"task": task, "result": result})
        metrics.add_metric(name=f"Order{task}Done", unit="Count", value=1)
    return result


def _backward(compensation: str, event: dict[str, Any]) -> dict[str, Any]:
    logger.append_keys(order_id=order_id_of(event), saga_type="order", saga_step=compensation)
    result = compensate(ledger(), event, UNDOES[compensation])
    logger.info(
        "order compensation done" if result["compensated"] else "order compensation: nothing in force",
        extra={"task": compensation},
    )
    metrics.add_metric(name=f"Order{compensation}", unit="Count", value=1)
    return result


@instrumented
def reserve_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _forward("ReserveInventory", event)


@instrumented
def process_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _forward("ProcessPayment", event)


@instrumented
def arrange_shipping(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _forward("ArrangeShipping", event)


@instrumented
def confirm_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _forward("ConfirmOrder", event)


@instrumented
def refund_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _backward("RefundPayment", event)


@instrumented
def cancel_reservation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _backward("CancelReservation", event)
