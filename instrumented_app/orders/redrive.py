"""Redrive a failed order execution from its failed step: ``sagawatch saga redrive ARN``.

Two ways, chosen by what the execution went through:

- it failed without being compensated (a compensation gave up, a timeout,
  an abort): ``RedriveExecution``, which on AWS continues the same execution
  from the unsuccessful state;
- it was compensated (its Catch ran RefundPayment and CancelReservation and
  it ended in the ``OrderFailed`` Fail state, where AWS's redrive would only
  fail again), or the endpoint has no ``RedriveExecution`` (moto 5.2.5):
  a new execution ``<name>.redrive-<n>`` of the same state machine with the
  recorded input plus a ``redrive`` marker (``of``, ``resume_from``,
  ``attempt``). Every task is idempotent per order in the ledger: a task still
  in force returns its recorded result without running again, and what the
  compensation undid is done again, so the order goes on from its failed step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from instrumented_app.orders.model import COMPENSATIONS, TASKS

REDRIVABLE = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
#: Redrives of one execution at most (names ``.redrive-1`` .. ``.redrive-20``).
MAX_REDRIVES = 20
#: What an endpoint without the operation answers (moto: not implemented).
_UNSUPPORTED = frozenset({"UnknownOperationException", "InvalidAction", "NotImplemented", "501"})


class NotRedrivable(RuntimeError):
    pass


@dataclass(frozen=True)
class RedriveOutcome:
    method: str  # "RedriveExecution" or "re-run"
    execution_arn: str  # the execution that now runs (the same one after RedriveExecution)
    resume_from: str | None


def failed_task(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The last forward task whose invocation failed, from an execution's history events."""
    current: str | None = None
    failed: str | None = None
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            current = entered.get("name")
        if event.get("type") in ("TaskFailed", "LambdaFunctionFailed") and current in TASKS:
            failed = current
    return failed


def was_compensated(events: Sequence[Mapping[str, Any]]) -> bool:
    entered = {e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e}
    return bool(entered & set(COMPENSATIONS))


def redrive_name(name: str, attempt: int) -> str:
    base = name.split(".redrive-", 1)[0]
    return f"{base}.redrive-{attempt}"


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    for _ in range(50):  # bounded: 50k events is far beyond an order saga
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return events


def latest_execution(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """The execution, or its latest redrive re-run if there is one (``describe_execution``'s answer)."""
    latest = sfn.describe_execution(executionArn=execution_arn)
    for attempt in range(1, MAX_REDRIVES + 1):
        try:
            latest = sfn.describe_execution(executionArn=redrive_name(execution_arn, attempt))
        except sfn.exceptions.ExecutionDoesNotExist:
            break
    return dict(latest)


def redrive(sfn: Any, execution_arn: str) -> RedriveOutcome:
    described = sfn.describe_execution(executionArn=execution_arn)
    if described["status"] not in REDRIVABLE:
        raise NotRedrivable(
            f"execution {execution_arn} is {described['status']}: only a failed one is redriven"
        )
    events = _history(sfn, execution_arn)
    resume_from = failed_task(events)
    if not was_compensated(events):
        try:
            sfn.redrive_execution(executionArn=execution_arn)
            return RedriveOutcome("RedriveExecution", execution_arn, resume_from)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if error.get("Code") not in _UNSUPPORTED and status not in ("500", "501"):
                raise
        except AttributeError:
            pass  # a botocore too old to know the operation
    payload = json.loads(described.get("input") or "{}")
    for attempt in range(1, MAX_REDRIVES + 1):
        payload["redrive"] = {"of": execution_arn, "resume_from": resume_from, "attempt": attempt}
        try:
            started = sfn.start_execution(
                stateMachineArn=described["stateMachineArn"],
                name=redrive_name(described["name"], attempt),
                input=json.dumps(payload),
            )
        except sfn.exceptions.ExecutionAlreadyExists:
            continue
        return RedriveOutcome("re-run", started["executionArn"], resume_from)
    raise NotRedrivable(f"execution {execution_arn} was redriven {MAX_REDRIVES} times already")
