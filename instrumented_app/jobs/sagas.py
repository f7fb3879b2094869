"""The customer saga as a job runs it: start it under a given id, or resume it when it exists.

A small port (``CustomerSagas``) so the worker's tests need no Aurora;
``RunnerCustomerSagas`` puts the app's ``SagaRunner`` behind it, opened on
first use (a worker that only syncs members never connects to Aurora).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.records import SagaNotFound, SagaRecord
from instrumented_app.sagas.runner import SagaRunner
from sagawatch.contracts import TERMINAL_STATUSES, SagaStatus


@dataclass(frozen=True)
class SagaOutcome:
    status: SagaStatus
    failed_step: str | None = None
    error: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class CustomerSagas(Protocol):
    def run_customer(self, customer: NewCustomer, saga_id: str, correlation_id: str) -> SagaOutcome:
        """Run saga ``saga_id`` for ``customer`` to its end: start it, or resume it if it exists."""


class RunnerCustomerSagas:
    """``CustomerSagas`` on a ``SagaRunner`` made by ``open`` when first needed (and again if closed)."""

    def __init__(self, open_runner: Callable[[], SagaRunner]) -> None:
        self._open = open_runner
        self._runner: SagaRunner | None = None

    def run_customer(self, customer: NewCustomer, saga_id: str, correlation_id: str) -> SagaOutcome:
        runner = self._current()
        try:
            runner.store.load(saga_id)
        except SagaNotFound:
            record = runner.start_customer(customer, correlation_id, saga_id=saga_id)
        else:
            record = runner.resume(saga_id)
        return outcome_of(record)

    def _current(self) -> SagaRunner:
        if self._runner is None or self._runner.conn.closed:
            self._runner = self._open()
        return self._runner


def outcome_of(record: SagaRecord) -> SagaOutcome:
    failed = record.failed_step
    error = record.step(failed).error if failed else record.state.last_error
    return SagaOutcome(status=record.state.status, failed_step=failed, error=error)
