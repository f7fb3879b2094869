"""The orchestrator: runs a ``SagaDefinition`` forward, compensates in reverse, resumes from the store.

Rules, all driven by what the store says (so a fresh process can pick up any saga):

- forward, steps run in order; a step recorded ``SUCCEEDED`` is skipped, any
  other is (re)run with its stable idempotency key;
- a step that raises is ``FAILED``; the saga turns ``COMPENSATING`` and every
  step that may have written is compensated in reverse order: those that
  succeeded, and the failed one itself unless its error was definite (a SaaS
  that answered "no" wrote nothing; one that timed out may have);
- a step at or past the definition's ``point_of_no_return`` that raises is not
  compensated: the saga turns ``MANUAL_INTERVENTION`` (``resume`` continues it
  forward from that step; the definition's ``on_finish`` writes what a person needs);
- all compensations done: ``COMPENSATED``; one that fails leaves its step
  ``COMPENSATING`` with the error and the saga ``FAILED`` (a person, or
  ``resume``, retries it);
- a ``SimulatedCrash`` (the fault hook) or any ``BaseException`` is not
  recorded: the saga stays as it was, which is exactly what a stuck-saga
  query finds and ``resume`` continues.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.trace import Tracer

from instrumented_app.sagas.definition import SagaDefinition, SimulatedCrash, Step, StepContext, step_keys
from instrumented_app.sagas.records import SagaRecord, SagaStore, StepRecord
from instrumented_app.telemetry import tracer as default_tracer
from instrumented_app.telemetry.tracing import record_failure
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE, SagaState, SagaStatus, StepStatus

#: Longest error text kept on a row (vendor errors can be long; rows are read on dashboards).
MAX_ERROR_CHARS = 500
#: Step statuses after which a compensation is owed (a FAILED step owes one only if its outcome is unknown).
_COMPENSABLE = frozenset({StepStatus.SUCCEEDED, StepStatus.COMPENSATING})

#: Called as each step starts: ``(saga_id, saga_type, step_name, direction)`` with direction ``"do"`` or
#: ``"compensate"``; the handler binds its log fields and logs the step here.
StepListener = Callable[[str, str, str, str], None]


def is_definite(exc: BaseException) -> bool:
    """An error says whether its outcome is known with a ``definite`` attribute; unknown by default."""
    return bool(getattr(exc, "definite", False))


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    code = getattr(exc, "error_code", None)
    prefix = f"[{code}] " if isinstance(code, str) and code else ""
    return (prefix + text)[:MAX_ERROR_CHARS]


class SagaEngine:
    """Runs sagas of any definition against one store."""

    def __init__(
        self,
        store: SagaStore,
        *,
        crash_after: str | None = None,
        on_step: StepListener | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        compensation_attempts: int = 3,
        compensation_pause_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        tracer: Tracer | None = None,
    ) -> None:
        if compensation_attempts < 1:
            raise ValueError(f"compensation_attempts: must be at least 1, got {compensation_attempts}")
        self.store = store
        #: A compensation is retried this many times (pausing in between) before the saga is FAILED:
        #: giving up leaves a record the saga did not want, so it is worth more patience than a step.
        self.compensation_attempts = compensation_attempts
        self.compensation_pause_s = compensation_pause_s
        self._sleep = sleep
        self.tracer = tracer or default_tracer
        #: Fault hook: raise ``SimulatedCrash`` right after this step's success is recorded.
        self.crash_after = crash_after
        self.on_step = on_step
        self.now = now

    def create(
        self,
        definition: SagaDefinition,
        *,
        saga_id: str,
        correlation_id: str,
        payload: Mapping[str, Any],
    ) -> SagaRecord:
        """Record a new saga (PENDING, every step PENDING with its keys); nothing runs yet."""
        started = self.now()
        deadline = (
            None if definition.deadline_s is None else started + timedelta(seconds=definition.deadline_s)
        )
        steps = []
        for seq, step in enumerate(definition.steps):
            forward, backward = step_keys(saga_id, step.name)
            steps.append(
                StepRecord(
                    saga_id=saga_id,
                    name=step.name,
                    seq=seq,
                    status=StepStatus.PENDING,
                    idempotency_key=forward,
                    compensation_key=backward,
                )
            )
        record = SagaRecord(
            state=SagaState(
                id=saga_id,
                type=definition.saga_type,
                correlation_id=correlation_id,
                status=SagaStatus.PENDING,
                started_at=started,
                updated_at=started,
                deadline=deadline,
            ),
            payload=dict(payload),
            steps=steps,
        )
        self.store.create(record)
        return record

    def run(self, definition: SagaDefinition, saga_id: str) -> SagaRecord:
        """Take the saga from wherever its record says to a terminal status, and return the record."""
        record = self.store.load(saga_id)
        if record.state.type != definition.saga_type:
            raise ValueError(f"saga {saga_id} is of type {record.state.type!r}, not {definition.saga_type!r}")
        if not self.needs_work(record):
            return record
        status = record.state.status
        going_forward = status in (SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.MANUAL_INTERVENTION)
        self.store.update_saga(
            saga_id,
            status=SagaStatus.RUNNING if going_forward else SagaStatus.COMPENSATING,
            add_attempt=True,
        )
        if going_forward and self._forward(definition, self.store.load(saga_id)):
            self.store.update_saga(saga_id, status=SagaStatus.SUCCEEDED, current_step=None)
        elif self.store.load(saga_id).state.status is not SagaStatus.MANUAL_INTERVENTION:
            self._backward(definition, self.store.load(saga_id))
        return self._finished(definition, saga_id)

    def _finished(self, definition: SagaDefinition, saga_id: str) -> SagaRecord:
        record = self.store.load(saga_id)
        if definition.on_finish is not None:
            definition.on_finish(record)
        return record

    @staticmethod
    def needs_work(record: SagaRecord) -> bool:
        """Live sagas, MANUAL_INTERVENTION ones (continued forward) and FAILED ones whose compensation is
        unfinished can be (re)run."""
        if not record.state.terminal or record.state.status is SagaStatus.MANUAL_INTERVENTION:
            return True
        return record.state.status is SagaStatus.FAILED and any(
            step.status is StepStatus.COMPENSATING for step in record.steps
        )

    def _forward(self, definition: SagaDefinition, record: SagaRecord) -> bool:
        """Run the steps not yet done; True when all succeeded, False after recording a failure."""
        state = record.state
        for step, row in zip(definition.steps, record.steps, strict=True):
            if row.status is StepStatus.SUCCEEDED:
                continue
            self._announce(state, step.name, "do")
            self.store.update_step(
                state.id, row.seq, status=StepStatus.RUNNING, started=True, current_step=step.name
            )
            try:
                with self._span(state, step.name, "do"):
                    result = step.do(self._context(record, step, row.idempotency_key, row.result))
            except Exception as exc:
                error = describe(exc)
                self.store.update_step(
                    state.id,
                    row.seq,
                    status=StepStatus.FAILED,
                    finished=True,
                    error=error,
                    outcome_unknown=not is_definite(exc),
                )
                past = definition.past_point_of_no_return(step.name)
                self.store.update_saga(
                    state.id,
                    status=SagaStatus.MANUAL_INTERVENTION if past else SagaStatus.COMPENSATING,
                    last_error=f"{step.name}: {error}",
                    failed_step=step.name,
                )
                return False
            self.store.update_step(
                state.id,
                row.seq,
                status=StepStatus.SUCCEEDED,
                finished=True,
                error=None,
                result=dict(result) if result else None,
            )
            if self.crash_after == step.name:
                raise SimulatedCrash(f"fault hook: crash after step {step.name!r} of saga {state.id}")
        return True

    def _backward(self, definition: SagaDefinition, record: SagaRecord) -> None:
        state = record.state
        for step, row in reversed(list(zip(definition.steps, record.steps, strict=True))):
            owed = row.status in _COMPENSABLE or (row.status is StepStatus.FAILED and row.outcome_unknown)
            if not owed:
                if row.status is StepStatus.PENDING:
                    self.store.update_step(state.id, row.seq, status=StepStatus.SKIPPED)
                continue
            if not self._compensate(record, step, row):
                self.store.update_saga(state.id, status=SagaStatus.FAILED)
                return
        self.store.update_saga(state.id, status=SagaStatus.COMPENSATED, current_step=None)

    def _compensate(self, record: SagaRecord, step: Step, row: StepRecord) -> bool:
        state = record.state
        self._announce(state, step.name, "compensate")
        self.store.update_step(state.id, row.seq, status=StepStatus.COMPENSATING, current_step=step.name)
        if step.compensate is not None:
            context = self._context(record, step, row.compensation_key, row.result)
            for attempt in range(1, self.compensation_attempts + 1):
                try:
                    with self._span(state, step.name, "compensate"):
                        step.compensate(context)
                    break
                except Exception as exc:
                    error = f"compensation failed (attempt {attempt}): {describe(exc)}"
                    self.store.update_step(state.id, row.seq, status=StepStatus.COMPENSATING, error=error)
                    self.store.update_saga(state.id, last_error=f"{step.name}: {error}")
                    if attempt == self.compensation_attempts:
                        return False
                    self._sleep(self.compensation_pause_s * attempt)
        self.store.update_step(state.id, row.seq, status=StepStatus.COMPENSATED, finished=True)
        return True

    def _context(
        self, record: SagaRecord, step: Step, key: str, result: Mapping[str, Any] | None
    ) -> StepContext:
        state = record.state
        return StepContext(
            saga_id=state.id,
            saga_type=state.type,
            correlation_id=state.correlation_id,
            step=step.name,
            payload=record.payload,
            idempotency_key=key,
            result=result,
            attempt=max(state.attempts, 1),
        )

    @contextmanager
    def _span(self, state: SagaState, step: str, direction: str) -> Iterator[None]:
        """A span per step and direction; the SaaS calls' spans nest inside it. A failure marks it
        ERROR with its text PII-masked (``record_failure``) and is still raised to the engine."""
        with self.tracer.start_as_current_span(
            f"saga {state.type} {step} {direction}",
            attributes={
                "saga_id": state.id,
                "saga_type": state.type,
                "saga_step": step,
                "saga.direction": direction,
                CORRELATION_ID_ATTRIBUTE: state.correlation_id,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield
            except Exception as exc:
                record_failure(span, exc)
                raise

    def _announce(self, state: SagaState, step: str, direction: str) -> None:
        if self.on_step is not None:
            self.on_step(state.id, state.type, step, direction)
