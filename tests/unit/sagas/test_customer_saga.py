"""The customer saga on real parts: PostgreSQL (migrated) and the SaaS simulators on loopback.

What is asserted is what an operator would see: saga and step rows, the
customer row, and each simulator's records and write log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from instrumented_app.saas_clients import SaasEndpoints
from instrumented_app.saas_sim.server import SaasSimulators
from instrumented_app.sagas import SimulatedCrash
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.runner import CRASH_AFTER_ENV, SagaBusy, SagaRunner, open_runner
from sagawatch.contracts import SagaStatus, StepStatus
from sagawatch.migrations import apply_migrations


@pytest.fixture(scope="module")
def saas() -> Iterator[dict[str, str]]:
    with SaasSimulators() as simulators:
        yield simulators.urls


@pytest.fixture
def aurora(fresh_db_url: str, saas: dict[str, str]) -> str:
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    for url in saas.values():
        httpx.post(f"{url}/_admin/reset").raise_for_status()
    return fresh_db_url


def endpoints(saas: dict[str, str]) -> SaasEndpoints:
    return SaasEndpoints(
        support_url=saas["support"], commerce_url=saas["commerce"], membership_url=saas["membership"]
    )


def endpoints_of(runner: SagaRunner) -> SaasEndpoints:
    return SaasEndpoints(
        support_url=str(runner.clients.support.caller.http.base_url),
        commerce_url=str(runner.clients.commerce.caller.http.base_url),
        membership_url=str(runner.clients.membership.caller.http.base_url),
    )


@pytest.fixture
def runner(aurora: str, saas: dict[str, str]) -> Iterator[SagaRunner]:
    opened = open_runner(aurora, endpoints(saas), crash_after="")
    yield opened
    opened.close()


def customer(cust_no: str = "C0001", email: str = "hana@example.com") -> NewCustomer:
    return NewCustomer.model_validate(
        {
            "cust_no": cust_no,
            "name": {"family": "Sato", "given": "Hana"},
            "email": email,
            "phone": "+819012345678",
        }
    )


def records(saas: dict[str, str], cust_no: str) -> dict[str, list[dict[str, Any]]]:
    """Live records holding ``cust_no`` in each simulator."""
    support = httpx.get(f"{saas['support']}/api/v2/users/search.json", params={"external_id": cust_no})
    commerce = httpx.get(
        f"{saas['commerce']}/admin/api/2024-10/customers/search.json",
        params={"query": f"multipass_identifier:{cust_no}"},
    )
    membership = httpx.get(f"{saas['membership']}/members", params={"member_no": cust_no})
    return {
        "support": support.json()["users"],
        "commerce": commerce.json()["customers"],
        "membership": membership.json()["members"],
    }


def customer_row(url: str, cust_no: str) -> tuple[str, str] | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT status, saga_id FROM customer WHERE cust_no = %s", (cust_no,)).fetchone()
    return None if row is None else (row[0], row[1])


def set_faults(saas: dict[str, str], system: str, **config: Any) -> None:
    httpx.put(f"{saas[system]}/_admin/faults", json=config).raise_for_status()


def test_a_saga_creates_one_record_per_system_and_activates_the_row(
    runner: SagaRunner, saas: dict[str, str], aurora: str
) -> None:
    record = runner.start_customer(customer(), correlation_id="corr-ok")
    assert record.state.status is SagaStatus.SUCCEEDED, record.state.last_error
    assert [s.status for s in record.steps] == [StepStatus.SUCCEEDED] * 5
    assert record.payload["cust_no"] == "C0001"
    found = records(saas, "C0001")
    assert {name: len(items) for name, items in found.items()} == {
        "support": 1,
        "commerce": 1,
        "membership": 1,
    }
    assert record.step("support_user").result == {"support_user_id": found["support"][0]["id"]}
    assert customer_row(aurora, "C0001") == ("ACTIVE", record.state.id)
    for url in saas.values():
        writes = httpx.get(f"{url}/_admin/writes", params={"correlation_id": "corr-ok"}).json()["writes"]
        assert len(writes) == 1 and writes[0]["idempotency_key"].startswith(record.state.id)


def test_commerce_down_compensates_support_and_aurora(
    runner: SagaRunner, saas: dict[str, str], aurora: str
) -> None:
    set_faults(saas, "commerce", error_rate=1.0, seed=1)
    try:
        record = runner.start_customer(customer("C0002", "c2@example.com"), correlation_id="corr-down")
    finally:
        set_faults(saas, "commerce")
    assert record.state.status is SagaStatus.COMPENSATED
    assert record.failed_step == "commerce_customer"
    assert "commerce" in (record.state.last_error or "")
    statuses = {s.name: s.status for s in record.steps}
    assert statuses["support_user"] is StepStatus.COMPENSATED
    assert statuses["aurora_customer"] is StepStatus.COMPENSATED
    assert statuses["membership"] is StepStatus.SKIPPED
    assert records(saas, "C0002") == {"support": [], "commerce": [], "membership": []}
    assert customer_row(aurora, "C0002") == ("DELETED", record.state.id)


def test_a_taken_cust_no_is_refused_without_touching_the_other_saga(
    runner: SagaRunner, saas: dict[str, str], aurora: str
) -> None:
    first = runner.start_customer(customer("C0003", "c3@example.com"), correlation_id="corr-1")
    second = runner.start_customer(customer("C0003", "other@example.com"), correlation_id="corr-2")
    assert second.state.status is SagaStatus.COMPENSATED
    assert second.failed_step == "aurora_customer"
    assert "CUSTOMER_EXISTS" in (second.state.last_error or "")
    assert customer_row(aurora, "C0003") == ("ACTIVE", first.state.id)
    assert {name: len(items) for name, items in records(saas, "C0003").items()} == {
        "support": 1,
        "commerce": 1,
        "membership": 1,
    }


def test_a_crashed_saga_is_resumed_by_a_new_runner_without_duplicates(
    aurora: str, saas: dict[str, str]
) -> None:
    crashing = open_runner(aurora, endpoints(saas), crash_after="commerce_customer")
    try:
        with pytest.raises(SimulatedCrash):
            crashing.start_customer(
                customer("C0004", "c4@example.com"), correlation_id="corr-crash", saga_id="s-4"
            )
    finally:
        crashing.close()
    fresh = open_runner(aurora, endpoints(saas), crash_after="")
    try:
        left = fresh.store.load("s-4")
        assert left.state.status is SagaStatus.RUNNING
        assert left.state.current_step == "commerce_customer"
        resumed = fresh.resume("s-4")
    finally:
        fresh.close()
    assert resumed.state.status is SagaStatus.SUCCEEDED
    found = records(saas, "C0004")
    assert {name: len(items) for name, items in found.items()} == {
        "support": 1,
        "commerce": 1,
        "membership": 1,
    }
    writes = httpx.get(f"{saas['membership']}/_admin/writes", params={"correlation_id": "corr-crash"}).json()
    assert len(writes["writes"]) == 1  # the resume carried the saga's correlation id to the SaaS


def test_timeouts_after_the_write_do_not_duplicate_records(
    runner: SagaRunner, saas: dict[str, str], aurora: str
) -> None:
    # Every second support call is processed but its answer lost: retries and lookups must not duplicate.
    set_faults(saas, "support", timeout_rate=0.5, timeout_phase="after", hang_ms=50, seed=3)
    try:
        outcomes = [
            runner.start_customer(customer(f"T{i:04d}", f"t{i}@example.com"), correlation_id=f"corr-t{i}")
            for i in range(6)
        ]
    finally:
        set_faults(saas, "support")
    for i, outcome in enumerate(outcomes):
        found = records(saas, f"T{i:04d}")
        expected = 1 if outcome.state.status is SagaStatus.SUCCEEDED else 0
        assert outcome.state.status in (SagaStatus.SUCCEEDED, SagaStatus.COMPENSATED)
        assert [len(items) for items in found.values()] == [expected] * 3, (outcome.state, found)


def test_the_store_lists_by_status_and_type(runner: SagaRunner, saas: dict[str, str]) -> None:
    ok = runner.start_customer(customer("C0005", "c5@example.com"), correlation_id="c5")
    set_faults(saas, "membership", error_rate=1.0)
    try:
        bad = runner.start_customer(customer("C0006", "c6@example.com"), correlation_id="c6")
    finally:
        set_faults(saas, "membership")
    assert [s.id for s in runner.store.list_sagas(statuses=[SagaStatus.SUCCEEDED])] == [ok.state.id]
    assert [s.id for s in runner.store.list_sagas(statuses=[SagaStatus.COMPENSATED])] == [bad.state.id]
    assert {s.id for s in runner.store.list_sagas(saga_type="customer")} == {ok.state.id, bad.state.id}
    assert runner.store.list_sagas(saga_type="member_merge") == []


def test_under_errors_and_timeouts_every_saga_ends_clean(runner: SagaRunner, saas: dict[str, str]) -> None:
    """30% of support and commerce calls fail (5xx or a dropped connection, before or after the write):
    each saga still ends SUCCEEDED with one record per system, or without any record anywhere."""
    faults = {"error_rate": 0.15, "timeout_rate": 0.15, "hang_ms": 20}
    set_faults(saas, "support", **faults, seed=11)
    set_faults(saas, "commerce", **faults, seed=12)
    try:
        outcomes = [
            runner.start_customer(customer(f"F{i:04d}", f"f{i}@example.com"), correlation_id=f"corr-f{i}")
            for i in range(20)
        ]
    finally:
        set_faults(saas, "support")
        set_faults(saas, "commerce")
    statuses = [outcome.state.status for outcome in outcomes]
    assert SagaStatus.SUCCEEDED in statuses  # the faults leave room for success...
    for i, outcome in enumerate(outcomes):
        counts = [len(items) for items in records(saas, f"F{i:04d}").values()]
        if outcome.state.status is SagaStatus.SUCCEEDED:
            assert counts == [1, 1, 1], outcome.state
        else:
            # ...and whatever did not succeed was compensated everywhere, with its reason on the row.
            assert outcome.state.status is SagaStatus.COMPENSATED, outcome.state
            assert outcome.failed_step and outcome.state.last_error
            assert counts == [0, 0, 0], (outcome.state, counts)


def test_starting_a_recorded_saga_id_again_resumes_it_instead(
    runner: SagaRunner, saas: dict[str, str]
) -> None:
    first = runner.start_customer(customer("C0007", "c7@example.com"), correlation_id="c7", saga_id="job-7")
    again = runner.start_customer(customer("C0007", "c7@example.com"), correlation_id="c7", saga_id="job-7")
    assert again.state.id == first.state.id and again.state.status is SagaStatus.SUCCEEDED
    assert [len(items) for items in records(saas, "C0007").values()] == [1, 1, 1]


def test_a_saga_run_by_another_process_is_not_run_twice(runner: SagaRunner, aurora: str) -> None:
    crashing = open_runner(aurora, endpoints_of(runner), crash_after="aurora_customer")
    try:
        with pytest.raises(SimulatedCrash):
            crashing.start_customer(customer("C0008", "c8@example.com"), correlation_id="c8", saga_id="s-8")
        with psycopg.connect(aurora, autocommit=True) as other:
            other.execute("SELECT pg_advisory_lock(hashtextextended('s-8', 0))")
            with pytest.raises(SagaBusy):
                runner.resume("s-8")
        assert runner.resume("s-8").state.status is SagaStatus.SUCCEEDED  # the holder's connection closed
    finally:
        crashing.close()


def test_the_fault_hook_is_read_from_the_environment(
    aurora: str, saas: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployed function crashes on purpose when SAGAWATCH_SAGA_CRASH_AFTER names a step."""
    monkeypatch.setenv(CRASH_AFTER_ENV, "membership")
    crashing = open_runner(aurora, endpoints(saas))
    try:
        with pytest.raises(SimulatedCrash):
            crashing.start_customer(customer("C0009", "c9@example.com"), correlation_id="c9", saga_id="s-9")
        assert crashing.store.load("s-9").state.current_step == "membership"
    finally:
        crashing.close()


class LateCreate(httpx.BaseTransport):
    """The shop's side of a slow server: the saga's first create reaches it only ``delay_s`` after the
    client gave up on it, the next two are lost on the way; every other call goes through."""

    def __init__(self, delay_s: float) -> None:
        self.inner = httpx.HTTPTransport()
        self.delay_s = delay_s
        self.creates = 0
        self.late: list[threading.Timer] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/customers.json"):
            self.creates += 1
            if self.creates == 1:
                copy = httpx.Request(
                    request.method, request.url, headers=request.headers, content=request.read()
                )
                timer = threading.Timer(self.delay_s, lambda: self.inner.handle_request(copy).read())
                timer.start()
                self.late.append(timer)
            if self.creates <= 3:
                raise httpx.ReadTimeout("no answer", request=request)
        return self.inner.handle_request(request)


def test_a_create_that_lands_after_its_compensation_started_is_still_undone(
    runner: SagaRunner, saas: dict[str, str]
) -> None:
    late = LateCreate(delay_s=1.5)
    commerce = runner.clients.commerce.caller
    commerce.http = httpx.Client(base_url=saas["commerce"], transport=late)
    record = runner.start_customer(customer("C0900", "late@example.com"), correlation_id="corr-late")
    for timer in late.late:
        timer.join(5)  # the first create has now reached the shop
    assert record.state.status is SagaStatus.COMPENSATED
    assert record.step("commerce_customer").status is StepStatus.COMPENSATED
    assert records(saas, "C0900") == {"support": [], "commerce": [], "membership": []}
    assert late.creates == 4  # three lost, then the compensation's own under the same key
