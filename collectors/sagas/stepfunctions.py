"""Step Functions executions as sagas: status, failed state, error and cause, steps from the history.

Executions already stored as terminal are not described again, so a pass costs calls only for
new and running executions (bounded by ``PassLimits.executions_per_machine`` per machine).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from collectors.errors import CollectorError, unreachable
from collectors.sagas.model import SFN_STATUS, SagaRecord, execution_failure, execution_steps
from sagawatch.contracts.correlation import CORRELATION_ID_ATTRIBUTE

MAX_HISTORY_EVENTS = 1000


@dataclass
class ExecutionPass:
    records: list[SagaRecord] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)


def collect_executions(sfn: Any, is_settled: Callable[[list[str]], set[str]], limit: int) -> ExecutionPass:
    """Every state machine's recent executions that are not settled yet in the audit store."""
    result = ExecutionPass()
    try:
        machines = list(_machines(sfn))
    except (ClientError, BotoCoreError) as exc:
        result.errors.append(unreachable("stepfunctions_unreachable", "list_state_machines", exc))
        return result
    for machine in machines:
        arn = machine["stateMachineArn"]
        try:
            executions = list(_executions(sfn, arn, limit))
            settled = is_settled([e["executionArn"] for e in executions])
            for execution in executions:
                if execution["executionArn"] not in settled:
                    result.records.append(_record(sfn, machine["name"], execution["executionArn"]))
        except (ClientError, BotoCoreError) as exc:
            result.errors.append(unreachable("stepfunctions_unreachable", arn, exc))
    return result


def _machines(sfn: Any) -> Iterator[dict[str, Any]]:
    for page in sfn.get_paginator("list_state_machines").paginate():
        yield from page.get("stateMachines", [])


def _executions(sfn: Any, machine_arn: str, limit: int) -> Iterator[dict[str, Any]]:
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=machine_arn, PaginationConfig={"MaxItems": limit, "PageSize": min(limit, 100)}
    )
    for page in pages:
        yield from page.get("executions", [])


def _record(sfn: Any, machine_name: str, execution_arn: str) -> SagaRecord:
    described = sfn.describe_execution(executionArn=execution_arn)
    history = sfn.get_execution_history(executionArn=execution_arn, maxResults=MAX_HISTORY_EVENTS)["events"]
    payload = _json_object(described.get("input"))
    status = SFN_STATUS.get(described["status"], SFN_STATUS["RUNNING"]).value
    started: datetime = described["startDate"]
    last_event: datetime = history[-1]["timestamp"] if history else started
    failure = execution_failure(history) if status == "FAILED" else None
    steps = execution_steps(execution_arn, history)
    return SagaRecord(
        saga_id=execution_arn,
        source="stepfunctions",
        saga_type=str(payload.get("saga_type") or machine_name),
        correlation_id=_str(payload.get(CORRELATION_ID_ATTRIBUTE)),
        status=status,
        started_at=started,
        updated_at=described.get("stopDate") or last_event,
        current_step=steps[-1].name if steps else None,
        last_error=failure.error if failure else None,
        failed_state=failure.failed_state if failure else None,
        error=failure.error if failure else None,
        cause=failure.cause if failure else None,
        steps=steps,
    )


def _json_object(text: object) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
