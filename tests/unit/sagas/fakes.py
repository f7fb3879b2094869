"""Fakes for the engine's unit tests: an in-memory ``SagaStore`` (the real one is tested on PostgreSQL)
and a ``World`` of steps that record their calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from instrumented_app.sagas.definition import SagaDefinition, Step, StepContext, StepResult
from instrumented_app.sagas.records import KEEP, SagaNotFound, SagaRecord
from sagawatch.contracts import SagaState, SagaStatus, StepStatus


class MemoryStore:
    def __init__(self) -> None:
        self.sagas: dict[str, SagaRecord] = {}

    def create(self, record: SagaRecord) -> None:
        if record.state.id in self.sagas:
            raise ValueError(f"duplicate saga {record.state.id}")
        self.sagas[record.state.id] = record.model_copy(deep=True)

    def load(self, saga_id: str) -> SagaRecord:
        if saga_id not in self.sagas:
            raise SagaNotFound(saga_id)
        return self.sagas[saga_id].model_copy(deep=True)

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
        record = self.sagas[saga_id]
        state = record.state
        if status is not None:
            state.status = status
        if current_step is not KEEP:
            state.current_step = current_step
        if last_error is not KEEP:
            state.last_error = last_error
        if failed_step is not KEEP:
            record.failed_step = failed_step
        if add_attempt:
            state.attempts += 1
        state.updated_at = datetime.now(UTC)

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
        step = self.sagas[saga_id].steps[seq]
        if current_step is not KEEP:
            self.sagas[saga_id].state.current_step = current_step
        step.status = status
        now = datetime.now(UTC)
        if started:
            step.started_at, step.finished_at = now, None
        if finished:
            step.finished_at = now
        if error is not KEEP:
            step.error = error
        if result is not KEEP:
            step.result = result
        if outcome_unknown is not None:
            step.outcome_unknown = outcome_unknown
        self.sagas[saga_id].state.updated_at = now

    def list_sagas(
        self,
        *,
        saga_type: str | None = None,
        statuses: Sequence[SagaStatus] = (),
        updated_before: datetime | None = None,
        limit: int = 100,
    ) -> list[SagaState]:
        found = [
            r.state
            for r in self.sagas.values()
            if (saga_type is None or r.state.type == saga_type)
            and (not statuses or r.state.status in statuses)
            and (updated_before is None or r.state.updated_at < updated_before)
        ]
        return sorted(found, key=lambda s: s.updated_at, reverse=True)[:limit]


NAMES = ("a", "b", "c", "d")


class Definite(Exception):
    """The remote side said no: nothing was written."""

    definite = True


class World:
    """Steps that record every call (name, direction, key) and can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail: dict[str, BaseException] = {}
        self.fail_compensation: dict[str, list[Exception]] = {}
        self.written: set[str] = set()

    def step(self, name: str) -> Step:
        def do(ctx: StepContext) -> StepResult:
            self.calls.append((name, "do", ctx.idempotency_key))
            if name in self.fail:
                raise self.fail[name]
            self.written.add(name)
            return {"made": name}

        def compensate(ctx: StepContext) -> None:
            self.calls.append((name, "undo", ctx.idempotency_key))
            if self.fail_compensation.get(name):
                raise self.fail_compensation[name].pop(0)
            self.written.discard(name)  # deleting what is gone is fine: "already gone" = success

        return Step(name, do, compensate)

    def definition(self) -> SagaDefinition:
        return SagaDefinition("test", tuple(self.step(name) for name in NAMES))

    def directions(self, direction: str) -> list[str]:
        return [name for name, d, _ in self.calls if d == direction]
