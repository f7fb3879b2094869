"""Wiring at the edge: one Aurora connection, the SaaS clients, the store, the engine, the definitions.

The Lambda handler keeps one ``SagaRunner`` per execution environment; the
CLI opens one for a command. Adding a saga type is one entry in
``definitions``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from instrumented_app.saas_clients import SaasClients, SaasEndpoints, open_clients
from instrumented_app.sagas.customer import customer_saga, payload_for
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.customer_rows import CustomerRows
from instrumented_app.sagas.definition import SagaDefinition
from instrumented_app.sagas.engine import SagaEngine, StepListener
from instrumented_app.sagas.member_merge import member_merge_saga
from instrumented_app.sagas.member_merge_store import MergeStore
from instrumented_app.sagas.postgres import PostgresSagaStore
from instrumented_app.sagas.records import SagaRecord
from instrumented_app.telemetry import current_correlation_id
from instrumented_app.telemetry.correlation import reset_correlation_id, set_correlation_id

#: The fault hook's variable: the name of a step after which the saga's process "crashes".
CRASH_AFTER_ENV = "SAGAWATCH_SAGA_CRASH_AFTER"


class UnknownSagaType(LookupError):
    pass


class SagaBusy(RuntimeError):
    """Another process is running this saga right now; try again when it has stopped."""

    error_code = "SAGA_BUSY"

    def __init__(self, saga_id: str) -> None:
        super().__init__(f"saga {saga_id} is being run by another process")
        self.saga_id = saga_id


@dataclass
class SagaRunner:
    conn: psycopg.Connection[Any]
    clients: SaasClients
    store: PostgresSagaStore
    engine: SagaEngine
    definitions: dict[str, SagaDefinition] = field(default_factory=dict)

    def start_customer(
        self, customer: NewCustomer, correlation_id: str, saga_id: str | None = None
    ) -> SagaRecord:
        """Record a new customer saga and run it to its end.

        With a ``saga_id`` that is already recorded (a job delivered twice), the recorded saga is
        resumed instead: its recorded input wins, and nothing is started twice.
        """
        definition = self.definitions["customer"]
        saga_id = saga_id or str(uuid.uuid4())
        try:
            self.engine.create(
                definition, saga_id=saga_id, correlation_id=correlation_id, payload=payload_for(customer)
            )
        except psycopg.errors.UniqueViolation:
            return self.resume(saga_id)
        with _correlated(correlation_id), self._exclusive(saga_id):
            return self.engine.run(definition, saga_id)

    def resume(self, saga_id: str) -> SagaRecord:
        """Continue a saga from its recorded state (a terminal one is returned as it is)."""
        record = self.store.load(saga_id)
        definition = self.definitions.get(record.state.type)
        if definition is None:
            raise UnknownSagaType(
                f"saga {saga_id} is of type {record.state.type!r}, which this runner cannot resume"
                f" (known: {sorted(self.definitions)})"
            )
        with _correlated(record.state.correlation_id), self._exclusive(saga_id):
            return self.engine.run(definition, saga_id)

    @contextmanager
    def holding(self, saga_id: str) -> Iterator[SagaRecord]:
        """The saga's record, loaded once this process alone may run it, under its correlation id:
        for commands that act on a saga other than by ``resume`` (``sagawatch saga compensate``)."""
        with self._exclusive(saga_id):
            record = self.store.load(saga_id)
            with _correlated(record.state.correlation_id):
                yield record

    @contextmanager
    def _exclusive(self, saga_id: str) -> Iterator[None]:
        """One process runs a saga at a time: a session advisory lock on its id, which PostgreSQL
        drops by itself when the holder's connection dies (a crashed Lambda frees its sagas)."""
        held = self.conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (saga_id,)
        ).fetchone()
        if not held or not held[0]:
            raise SagaBusy(saga_id)
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (saga_id,))

    def close(self) -> None:
        self.clients.close()
        self.conn.close()


@contextmanager
def _correlated(correlation_id: str) -> Iterator[None]:
    """Run under the saga's correlation id unless an invocation already set one (a resume from the
    CLI has none: its SaaS calls must still carry the id of the business transaction)."""
    if current_correlation_id():
        yield
        return
    token = set_correlation_id(correlation_id)
    try:
        yield
    finally:
        reset_correlation_id(token)


def open_runner(
    aurora_url: str,
    endpoints: SaasEndpoints,
    *,
    crash_after: str | None = None,
    on_step: StepListener | None = None,
) -> SagaRunner:
    """A runner on a new autocommit connection; ``crash_after`` defaults to ``SAGAWATCH_SAGA_CRASH_AFTER``."""
    conn = psycopg.connect(aurora_url, autocommit=True)
    clients = open_clients(endpoints)
    store = PostgresSagaStore(conn)
    engine = SagaEngine(
        store,
        crash_after=crash_after if crash_after is not None else os.environ.get(CRASH_AFTER_ENV) or None,
        on_step=on_step,
    )
    return SagaRunner(
        conn=conn,
        clients=clients,
        store=store,
        engine=engine,
        definitions={
            "customer": customer_saga(CustomerRows(conn), clients),
            "member_merge": member_merge_saga(MergeStore(conn), clients),
        },
    )
