"""Sagas of the reference app: a generic orchestrator with its state in Aurora, and the customer saga.

- ``definition``: a saga as data (steps with ``do``/``compensate`` callables)
- ``engine``: runs, compensates and resumes any definition against a ``SagaStore``
- ``records`` / ``postgres``: the stored shape and its Aurora implementation
- ``customer`` (+ ``customer_input``, ``customer_rows``): the customer saga
- ``runner``: wiring at the edge (connection, clients, definitions); ``cli``: ``sagawatch saga``
"""

from instrumented_app.sagas.definition import SagaDefinition, SimulatedCrash, Step, StepContext
from instrumented_app.sagas.engine import SagaEngine
from instrumented_app.sagas.records import SagaNotFound, SagaRecord, SagaStore, StepRecord

__all__ = [
    "SagaDefinition",
    "SagaEngine",
    "SagaNotFound",
    "SagaRecord",
    "SagaStore",
    "SimulatedCrash",
    "Step",
    "StepContext",
    "StepRecord",
]
