"""What the engine reads and writes: a saga with its steps, and the store protocol behind it.

``SagaStore`` has two implementations: ``PostgresSagaStore`` (Aurora, the real
one) and the unit tests' in-memory fake. Every write is a small transaction of
its own, so whatever a crash interrupts is the step that was running.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from sagawatch.contracts import SagaState, SagaStatus, SagaStep, StepStatus


class StepRecord(SagaStep):
    """One step's row: DESIGN.md's fields plus the compensation key, result and outcome flag."""

    compensation_key: str
    result: dict[str, Any] | None = None
    outcome_unknown: bool = False


class SagaRecord(BaseModel):
    """A saga instance as stored: its state, its input, and its steps in order."""

    state: SagaState
    payload: dict[str, Any] = Field(default_factory=dict)
    failed_step: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)

    def step(self, name: str) -> StepRecord:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"saga {self.state.id} has no step {name!r}")


class SagaNotFound(LookupError):
    def __init__(self, saga_id: str) -> None:
        super().__init__(f"no saga with id {saga_id!r}")
        self.saga_id = saga_id


#: Sentinel for "leave this column as it is" in updates (None is a value: it clears the column).
KEEP: Any = object()


class SagaStore(Protocol):
    def create(self, record: SagaRecord) -> None:
        """Insert the saga and all its steps (PENDING) at once; an existing id is an error."""

    def load(self, saga_id: str) -> SagaRecord:
        """The saga and its steps; ``SagaNotFound`` when there is none."""

    def update_saga(
        self,
        saga_id: str,
        *,
        status: SagaStatus | None = None,
        current_step: str | None = KEEP,
        last_error: str | None = KEEP,
        failed_step: str | None = KEEP,
        add_attempt: bool = False,
    ) -> None:
        """Change the saga's row and touch ``updated_at`` (progress is what the stuck rule watches)."""

    def update_step(
        self,
        saga_id: str,
        seq: int,
        *,
        status: StepStatus,
        started: bool = False,
        finished: bool = False,
        error: str | None = KEEP,
        result: dict[str, Any] | None = KEEP,
        outcome_unknown: bool | None = None,
        current_step: str | None = KEEP,
    ) -> None:
        """Change one step's row (``started``/``finished`` stamp the times) and, in the same
        transaction, touch the saga (and set its ``current_step`` when given)."""

    def list_sagas(
        self,
        *,
        saga_type: str | None = None,
        statuses: Sequence[SagaStatus] = (),
        updated_before: datetime | None = None,
        limit: int = 100,
    ) -> list[SagaState]:
        """Sagas, most recently updated first, filtered by type, statuses and age."""
