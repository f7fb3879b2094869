"""The three simulators, started once per module on loopback, reset before every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from instrumented_app.saas_sim.server import SaasSimulators

SHOPIFY = "/admin/api/2024-07"


@pytest.fixture(scope="module")
def simulators() -> Iterator[SaasSimulators]:
    sims = SaasSimulators()
    sims.start()
    yield sims
    sims.stop()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One client for the module: building one costs ~0.1 s (its TLS context), reusing it nothing."""
    with httpx.Client(timeout=10.0) as http:
        yield http


@pytest.fixture
def urls(simulators: SaasSimulators, client: httpx.Client) -> dict[str, str]:
    """Base URLs, each simulator reset to empty storage, no faults, real time."""
    for url in simulators.urls.values():
        client.post(f"{url}/_admin/reset").raise_for_status()
    return simulators.urls


#: For the tests every service shares: how to create one record, and where to read it back.
#: name -> (create path, body for the n-th record, path of a record given its create answer)
CREATE: dict[str, tuple[str, Callable[[int], dict[str, Any]], Callable[[dict[str, Any]], str]]] = {
    "support": (
        "/api/v2/users.json",
        lambda n: {"user": {"name": f"User {n}", "email": f"u{n}@example.com", "external_id": f"C{n:06d}"}},
        lambda body: f"/api/v2/users/{body['user']['id']}.json",
    ),
    "commerce": (
        f"{SHOPIFY}/customers.json",
        lambda n: {
            "customer": {"first_name": "Cust", "last_name": str(n), "multipass_identifier": f"C{n:06d}"}
        },
        lambda body: f"{SHOPIFY}/customers/{body['customer']['id']}.json",
    ),
    "membership": (
        "/members",
        lambda n: {"member_no": f"C{n:06d}", "full_name": f"Member {n}"},
        lambda body: f"/members/{body['id']}",
    ),
}


def record_id(name: str, body: dict[str, Any]) -> str:
    """The id in a create answer, as the write log keeps it."""
    return str(
        {"support": lambda: body["user"]["id"], "commerce": lambda: body["customer"]["id"]}.get(
            name, lambda: body["id"]
        )()
    )


def set_faults(client: httpx.Client, url: str, **config: Any) -> None:
    client.put(f"{url}/_admin/faults", json=config).raise_for_status()
