"""``SaasSimulators``: loopback only, ports, state kept across a restart."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from instrumented_app.saas_sim.server import SaasSimulators, SimulatorError


def test_only_loopback_hosts_are_accepted() -> None:
    with pytest.raises(SimulatorError, match="host"):
        SaasSimulators(host="0.0.0.0")
    with pytest.raises(SimulatorError, match="ports"):
        SaasSimulators(ports={"billing": 0})


def test_a_given_port_is_used_and_a_taken_one_is_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with SaasSimulators(ports={"membership": free}) as sims:
        assert sims.urls["membership"] == f"http://127.0.0.1:{free}"
        with pytest.raises(SimulatorError, match=f"membership: cannot bind 127.0.0.1:{free}"):
            SaasSimulators(ports={"membership": free}).start()


def test_state_survives_a_restart_with_a_state_dir(tmp_path: Path) -> None:
    with SaasSimulators(state_dir=tmp_path) as sims, httpx.Client() as client:
        base = sims.urls["support"]
        user = client.post(
            f"{base}/api/v2/users.json",
            json={"user": {"name": "Kept", "external_id": "C1"}},
            headers={"Idempotency-Key": "k1", "X-Correlation-Id": "corr-1"},
        ).json()["user"]
        client.put(f"{base}/_admin/faults", json={"latency_ms": 5, "seed": 9}).raise_for_status()
    assert (tmp_path / "support.json").exists()

    with SaasSimulators(state_dir=tmp_path) as sims, httpx.Client() as client:
        base = sims.urls["support"]
        assert client.get(f"{base}/api/v2/users/{user['id']}.json").json()["user"] == {
            **user,
            "url": f"{base}/api/v2/users/{user['id']}.json",
        }
        replay = client.post(
            f"{base}/api/v2/users.json",
            json={"user": {"name": "Kept", "external_id": "C1"}},
            headers={"Idempotency-Key": "k1"},
        )
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert client.get(f"{base}/_admin/faults").json()["seed"] == 9
        writes = client.get(f"{base}/_admin/writes", params={"correlation_id": "corr-1"}).json()["writes"]
        assert len(writes) == 1
        next_user = client.post(f"{base}/api/v2/users.json", json={"user": {"name": "New"}}).json()["user"]
        assert next_user["id"] == user["id"] + 1


def test_starting_twice_is_refused() -> None:
    with SaasSimulators() as sims, pytest.raises(SimulatorError, match="already running"):
        sims.start()
