"""Saga state as DESIGN.md defines it, and the rule that calls a saga stuck.

The stuck rule is a pure function so that the collectors (which flag sagas),
the dashboard (which lists them) and the alarms (which count them) all agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field


class SagaStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPENSATING = "COMPENSATING"
    SUCCEEDED = "SUCCEEDED"
    COMPENSATED = "COMPENSATED"
    FAILED = "FAILED"
    MANUAL_INTERVENTION = "MANUAL_INTERVENTION"


#: A saga in one of these states will not move again by itself.
#: ``MANUAL_INTERVENTION`` is terminal for automation: a person has to act.
TERMINAL_STATUSES: frozenset[SagaStatus] = frozenset(
    {SagaStatus.SUCCEEDED, SagaStatus.COMPENSATED, SagaStatus.FAILED, SagaStatus.MANUAL_INTERVENTION}
)


class StepStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    COMPENSATING = "COMPENSATING"
    COMPENSATED = "COMPENSATED"
    SKIPPED = "SKIPPED"


#: Seconds without progress after which a live saga counts as stuck, per saga type.
DEFAULT_STUCK_THRESHOLDS_S: dict[str, float] = {
    "default": 300.0,
    "customer": 120.0,
    "member_merge": 600.0,
    "order": 300.0,
}


class SagaStep(BaseModel):
    """One row per step of a saga instance."""

    saga_id: str
    name: str
    seq: int = Field(ge=0)
    status: StepStatus
    idempotency_key: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class SagaState(BaseModel):
    """One row per saga instance; Step Functions executions map onto it too."""

    id: str
    type: str
    correlation_id: str
    status: SagaStatus
    current_step: str | None = None
    attempts: int = Field(default=0, ge=0)
    last_error: str | None = None
    started_at: datetime
    updated_at: datetime
    deadline: datetime | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


def is_stuck(saga: SagaState, now: datetime, threshold_s: float) -> bool:
    """Stuck: not terminal, and either idle past its type's threshold or past its deadline."""
    if saga.terminal:
        return False
    if saga.deadline is not None and now > saga.deadline:
        return True
    return now - saga.updated_at > timedelta(seconds=threshold_s)
