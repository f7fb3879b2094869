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

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names:
            raise ValueError(f"saga {self.saga_type!r}: steps: at least one step is required")
        if len(set(names)) != len(names):
            raise ValueError(f"saga {self.saga_type!r}: steps: names must be unique, got {names}")


def step_keys(saga_id: str, step: str) -> tuple[str, str]:
    """The forward and compensation idempotency keys of one step of one saga."""
    return f"{saga_id}:{step}:do", f"{saga_id}:{step}:compensate"


class SimulatedCrash(BaseException):
    """The fault hook's crash: a ``BaseException`` so that no ``except Exception`` records it,
    as nothing is recorded when a Lambda's process dies between two steps."""
