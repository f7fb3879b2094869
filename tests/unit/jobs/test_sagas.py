"""A create_customer job's saga on real parts: migrated PostgreSQL and the SaaS simulators on loopback.

The job's saga id is fixed by its job id, so any later attempt (a redelivery,
a redrive, a retry after a crash) finds the saga and resumes it: one customer
in each SaaS, never two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from instrumented_app.jobs.actions import saga_id_for
from instrumented_app.jobs.sagas import RunnerCustomerSagas
from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.saas_sim.server import SaasSimulators
from instrumented_app.sagas import SimulatedCrash
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.runner import SagaRunner, open_runner
from sagawatch.contracts import SagaStatus
from sagawatch.migrations import apply_migrations


@pytest.fixture(scope="module")
def saas() -> Iterator[dict[str, str]]:
    with SaasSimulators() as simulators:
        yield simulators.urls


@pytest.fixture
def open_for(fresh_db_url: str, saas: dict[str, str]) -> Iterator[Callable[[str], SagaRunner]]:
    """Opens runners on a migrated Aurora (``crash_after`` names a step to die after), closing them after."""
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    for url in saas.values():
        httpx.post(f"{url}/_admin/reset").raise_for_status()
    endpoints = SaasEndpoints(
        support_url=saas["support"], commerce_url=saas["commerce"], membership_url=saas["membership"]
    )
    opened: list[SagaRunner] = []

    def open_one(crash_after: str) -> SagaRunner:
        opened.append(open_runner(fresh_db_url, endpoints, crash_after=crash_after))
        return opened[-1]

    yield open_one
    for runner in opened:
        runner.close()


def customer(cust_no: str) -> NewCustomer:
    return NewCustomer.model_validate(
        {"cust_no": cust_no, "name": {"family": "Sato", "given": "Hana"}, "email": f"{cust_no}@example.com"}
    )


def members(saas: dict[str, str], cust_no: str) -> int:
    return len(httpx.get(f"{saas['membership']}/members", params={"member_no": cust_no}).json()["members"])


def test_a_second_attempt_of_a_finished_job_finds_its_saga_and_creates_nothing(
    open_for: Callable[[str], SagaRunner], saas: dict[str, str]
) -> None:
    sagas = RunnerCustomerSagas(lambda: open_for(""))
    saga_id = saga_id_for("job_a")
    first = sagas.run_customer(customer("CJ001"), saga_id, "corr-j1")
    again = sagas.run_customer(customer("CJ001"), saga_id, "corr-j1")
    assert first.status is SagaStatus.SUCCEEDED and again.status is SagaStatus.SUCCEEDED
    assert members(saas, "CJ001") == 1


def test_an_attempt_that_died_mid_saga_is_finished_by_the_next_without_duplicates(
    open_for: Callable[[str], SagaRunner], saas: dict[str, str]
) -> None:
    saga_id = saga_id_for("job_b")
    dying = RunnerCustomerSagas(lambda: open_for("support_user"))
    with pytest.raises(SimulatedCrash):
        dying.run_customer(customer("CJ002"), saga_id, "corr-j2")
    outcome = RunnerCustomerSagas(lambda: open_for("")).run_customer(customer("CJ002"), saga_id, "corr-j2")
    assert outcome.status is SagaStatus.SUCCEEDED
    assert members(saas, "CJ002") == 1
