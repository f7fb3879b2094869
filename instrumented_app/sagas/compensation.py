"""Undoing a saga on an operator's word: when it is allowed, and doing it through the engine.

The CLI's ``saga compensate`` and the dashboard's Compensate button both end here, so the rule for
refusing (ended well, or past the point of no return) is written once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from instrumented_app.sagas.records import SagaRecord
from sagawatch.contracts import SagaStatus, StepStatus

if TYPE_CHECKING:
    from instrumented_app.sagas.definition import SagaDefinition
    from instrumented_app.sagas.runner import SagaRunner


class NotCompensable(ValueError):
    """Compensating this saga now would be wrong; the message says why and what to do instead."""


def compensation_refusal(record: SagaRecord, definition: SagaDefinition) -> str | None:
    """Why ``record`` must not be compensated now, or None: it ended well or is compensated already,
    or a step past its point of no return may have written (no compensation undoes that: its runbook's
    undo commands do). A step owes compensation as in the engine's backward pass, or when left RUNNING."""
    state = record.state
    if state.status in (SagaStatus.SUCCEEDED, SagaStatus.COMPENSATED):
        return f"saga {state.id} ended {state.status.value}: there is nothing to compensate"
    done = (StepStatus.SUCCEEDED, StepStatus.COMPENSATING, StepStatus.RUNNING)
    beyond = [
        step.name
        for step in record.steps
        if (step.status in done or (step.status is StepStatus.FAILED and step.outcome_unknown))
        and definition.past_point_of_no_return(step.name)
    ]
    if beyond:
        return (
            f"saga {state.id}: {', '.join(beyond)} cannot be undone by compensation (past the point of no"
            f" return); finish it with `sagawatch saga resume {state.id}` or follow"
            f" `sagawatch saga runbook {state.id}`"
        )
    return None


def compensate_saga(runner: SagaRunner, saga_id: str) -> SagaRecord:
    """Undo a saga now: its done steps are compensated in reverse by the engine, as after a failure.

    Held against other runs (``SagaBusy``); a step left RUNNING is recorded as FAILED with an unknown
    outcome first, so its (idempotent) compensation runs too. ``NotCompensable`` says when not to.
    """
    from instrumented_app.sagas.runner import UnknownSagaType

    with runner.holding(saga_id) as record:
        definition = runner.definitions.get(record.state.type)
        if definition is None:
            raise UnknownSagaType(f"saga {saga_id} is of type {record.state.type!r}, which this runner lacks")
        refusal = compensation_refusal(record, definition)
        if refusal is not None:
            raise NotCompensable(refusal)
        for step in record.steps:
            if step.status is StepStatus.RUNNING:
                runner.store.update_step(
                    saga_id,
                    step.seq,
                    status=StepStatus.FAILED,
                    finished=True,
                    error="interrupted before its outcome was recorded",
                    outcome_unknown=True,
                )
        runner.store.update_saga(saga_id, status=SagaStatus.COMPENSATING)
        return runner.engine.run(definition, saga_id)
