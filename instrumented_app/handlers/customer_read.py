"""``GET /customers/{cust_no}``: the customer read API, released as a canary (DESIGN.md's canary row).

The function runs as version 1 and version 2 behind the weighted alias ``live``;
each invocation reports ``Invocations``, ``Errors`` and ``Duration`` as EMF under
the ``version`` dimension that ``@instrumented`` sets, so ``sagawatch canary
judge`` can compare the two versions from CloudWatch. ``Errors`` counts what a
client experiences as a failure: an unhandled error (a 502 from the API front)
or a 5xx answer.

A version configured with ``CANARY_DEFECT_RATE`` fails that share of its
invocations on purpose -- a defective release to catch -- but only where test
faults are allowed (``SAGAWATCH_TEST_FAULTS``), so a deployed template cannot
be made to fail by a stray parameter. The answer names the version that served
it (``X-Function-Version``), as a client-visible trace of the alias's split.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Mapping
from typing import Any

import psycopg
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from psycopg.rows import dict_row

from instrumented_app.handlers.canary_release import VERSION_HEADER, defect_rate
from instrumented_app.sagas.customer_input import CUST_NO_PATTERN
from instrumented_app.telemetry import instrumented, log_error, logger, metrics

app = APIGatewayRestResolver()
_conn: psycopg.Connection[dict[str, Any]] | None = None


class InjectedDefect(RuntimeError):
    """The failure a defective release produces (test stacks only)."""

    error_code = "CANARY_INJECTED_DEFECT"


#: Read once per execution environment: a version's configuration never changes.
DEFECT_RATE = defect_rate(os.environ)


def customer_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """The API's shape of a customer row."""
    return {
        "cust_no": row["cust_no"],
        "name": {"family": row["family_name"], "given": row["given_name"]},
        "email": row["email"],
        "phone": row["phone"],
        "status": row["status"],
        "updated_at": row["updated_at"].isoformat(),
    }


def aurora() -> psycopg.Connection[dict[str, Any]]:
    """One connection per execution environment, opened again when Aurora dropped it."""
    global _conn
    if _conn is None or _conn.closed:
        url = os.environ.get("DATABASE_URL", "")
        if not url:
            raise RuntimeError("DATABASE_URL is not set: the customer read API needs Aurora")
        _conn = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=5)
    return _conn


def _answer(status: int, body: dict[str, Any]) -> Response[Any]:
    version = app.lambda_context.function_version
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={VERSION_HEADER: version},
    )


@app.get("/customers/<cust_no>")
def get_customer(cust_no: str) -> Response[Any]:
    if not re.fullmatch(CUST_NO_PATTERN, cust_no):
        return _answer(
            400, {"message": "Invalid request", "errors": [{"field": "cust_no", "message": "malformed"}]}
        )
    row = (
        aurora()
        .execute(
            "SELECT cust_no, family_name, given_name, email, phone, status, updated_at"
            " FROM customer WHERE cust_no = %s AND status <> 'DELETED'",
            (cust_no,),
        )
        .fetchone()
    )
    if row is None:
        return _answer(404, {"message": f"no customer {cust_no!r}"})
    logger.info("customer read", extra={"cust_no": cust_no})
    return _answer(200, customer_view(row))


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response[Any]:
    """Aurora unreachable, say: a JSON 502 naming the error (counted in Errors), never a bare 500."""
    log_error("customer read failed", error_code="CUSTOMER_READ_FAILED", exc_info=exc)
    return _answer(502, {"message": f"{type(exc).__name__} while reading the customer"})


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
    failed = True
    try:
        if DEFECT_RATE and random.random() < DEFECT_RATE:
            raise InjectedDefect(f"injected defect (version {context.function_version})")
        response: dict[str, Any] = app.resolve(event, context)
        failed = int(response.get("statusCode", 500)) >= 500
        return response
    finally:
        if failed:
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
        metrics.add_metric(
            name="Duration", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1000
        )
