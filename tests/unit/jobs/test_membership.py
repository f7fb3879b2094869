"""The membership call against the real membership simulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from instrumented_app.jobs.membership import ClientMembership
from instrumented_app.jobs.requests import MemberPayload
from instrumented_app.saas_clients import SaasUnavailable
from instrumented_app.saas_sim.server import SaasSimulators
from instrumented_app.telemetry.correlation import reset_correlation_id, set_correlation_id


@pytest.fixture(scope="module")
def simulators() -> Iterator[SaasSimulators]:
    with SaasSimulators() as running:
        yield running


@pytest.fixture
def membership_url(simulators: SaasSimulators) -> str:
    url = simulators.urls["membership"]
    httpx.post(f"{url}/_admin/reset", timeout=5).raise_for_status()
    return url


def member(name: str = "Hanako Yamada") -> MemberPayload:
    return MemberPayload(full_name=name, email="hanako@example.com", phone="+81 90 1234 5678")


def members(url: str, cust_no: str) -> list[dict]:
    response = httpx.get(f"{url}/members", params={"member_no": cust_no}, timeout=5)
    return list(response.json()["members"])


def writes(url: str, **params: str) -> list[dict]:
    return list(httpx.get(f"{url}/_admin/writes", params=params, timeout=5).json()["writes"])


def test_a_new_member_is_created_with_the_job_id_as_key_and_the_correlation_id(membership_url: str) -> None:
    client = ClientMembership.at(membership_url)
    token = set_correlation_id("corr-member-1")
    try:
        outcome = client.upsert_member("C0001", member(), idempotency_key="job_1")
    finally:
        reset_correlation_id(token)
    (created,) = members(membership_url, "C0001")
    assert outcome == {"member_id": created["id"], "action": "created"}
    assert created["full_name"] == "Hanako Yamada"
    (write,) = writes(membership_url, correlation_id="corr-member-1")
    assert (write["method"], write["idempotency_key"]) == ("POST", "job_1")


def test_a_retried_attempt_gets_the_same_member_not_a_second(membership_url: str) -> None:
    client = ClientMembership.at(membership_url)
    first = client.upsert_member("C0002", member(), idempotency_key="job_2")
    again = client.upsert_member("C0002", member(), idempotency_key="job_2")
    assert again["member_id"] == first["member_id"]
    assert len(members(membership_url, "C0002")) == 1


def test_another_job_for_an_existing_member_updates_it(membership_url: str) -> None:
    client = ClientMembership.at(membership_url)
    first = client.upsert_member("C0003", member(), idempotency_key="job_3")
    second = client.upsert_member("C0003", member("Hanako Suzuki"), idempotency_key="job_4")
    assert second == {"member_id": first["member_id"], "action": "updated"}
    (stored,) = members(membership_url, "C0003")
    assert stored["full_name"] == "Hanako Suzuki"


def test_a_faulted_api_raises_with_the_status_and_the_apis_error_code(membership_url: str) -> None:
    httpx.put(f"{membership_url}/_admin/faults", json={"error_rate": 1.0}, timeout=5).raise_for_status()
    with pytest.raises(SaasUnavailable) as caught:
        ClientMembership.at(membership_url).upsert_member("C0005", member(), idempotency_key="job_5")
    assert caught.value.status in (500, 503)
    assert "membership create_member: HTTP 5" in str(caught.value)
    health = httpx.get(f"{membership_url}/_admin/health", timeout=5).json()  # admin is never faulted
    assert health["records"] == 0


def test_an_unreachable_api_raises_naming_no_answer() -> None:
    with pytest.raises(SaasUnavailable, match="cannot connect"):
        ClientMembership.at("http://127.0.0.1:9").upsert_member("C0006", member(), idempotency_key="job_6")
