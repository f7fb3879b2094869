"""A saga as data: named steps, each a ``do`` and an optional ``compensate`` callable.

The engine (``engine.py``) knows nothing of customers or SaaS systems; the
customer saga (``customer.py``) and later the member-merge saga are small
modules that build a ``SagaDefinition`` and hand it over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: What a step returns: JSON-able facts worth keeping (record ids), stored with the step.
StepResult = Mapping[str, Any] | None


@dataclass(frozen=True)
class StepContext:
    """What a step's callable gets: which saga, what input, and the key for its one write."""

    saga_id: str
    saga_type: str
    correlation_id: str
    step: str
    payload: Mapping[str, Any]
    #: Idempotency key of this step in this direction (forward or compensation); stable across runs.
    idempotency_key: str
    #: What the forward run of this step returned, when it got that far (compensations read it).
    result: Mapping[str, Any] | None = None
    #: Which run of the saga this is (1 on the first, 2 on the first resume, ...).
    attempt: int = 1


@dataclass(frozen=True)
class Step:
    """One step. Both callables must be idempotent under ``ctx.idempotency_key``: a resumed saga
    calls again whatever had started but not been recorded as finished."""

    name: str
    do: Callable[[StepContext], StepResult]
    compensate: Callable[[StepContext], None] | None = None


@dataclass(frozen=True)
class SagaDefinition:
    saga_type: str
    steps: tuple[Step, ...]
    #: Seconds from the start after which a live saga counts as stuck whatever its progress.
    deadline_s: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    #: The first step that cannot be undone. A failure at or after it is not compensated: the saga
    #: goes to ``MANUAL_INTERVENTION`` (a person finishes it, or ``resume`` continues it forward).
    point_of_no_return: str | None = None
    #: Called with the saga's record each time a run of it ends (a runbook, a diff, an audit entry).
    on_finish: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names:
            raise ValueError(f"saga {self.saga_type!r}: steps: at least one step is required")
        if len(set(names)) != len(names):
            raise ValueError(f"saga {self.saga_type!r}: steps: names must be unique, got {names}")
        if self.point_of_no_return is not None and self.point_of_no_return not in names:
            raise ValueError(
                f"saga {self.saga_type!r}: point_of_no_return: {self.point_of_no_return!r} is not a step"
                f" (steps: {names})"
            )

    def past_point_of_no_return(self, step: str) -> bool:
        """Whether a failure of ``step`` can no longer be compensated automatically."""
        if self.point_of_no_return is None:
            return False
        names = [s.name for s in self.steps]
        return names.index(step) >= names.index(self.point_of_no_return)


def step_keys(saga_id: str, step: str) -> tuple[str, str]:
    """The forward and compensation idempotency keys of one step of one saga."""
    return f"{saga_id}:{step}:do", f"{saga_id}:{step}:compensate"


class SimulatedCrash(BaseException):
    """The fault hook's crash: a ``BaseException`` so that no ``except Exception`` records it,
    as nothing is recorded when a Lambda's process dies between two steps."""
