"""What every simulator does alike, around the vendor's shape: keys, correlation ids, faults, admin."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.unit.saas_sim.conftest import CREATE, record_id, set_faults

SERVICES = sorted(CREATE)


def _records(client: httpx.Client, base: str) -> int:
    count: int = client.get(f"{base}/_admin/health").json()["records"]
    return count


def _post(client: httpx.Client, base: str, name: str, n: int, **headers: str) -> httpx.Response:
    path, body, _ = CREATE[name]
    return client.post(f"{base}{path}", json=body(n), headers=headers)


@pytest.mark.parametrize("name", SERVICES)
def test_same_idempotency_key_and_body_replays_without_a_second_record(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    first = _post(client, base, name, 1, **{"Idempotency-Key": "key-1"})
    again = _post(client, base, name, 1, **{"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _records(client, base) == 1


@pytest.mark.parametrize("name", SERVICES)
def test_key_order_in_the_json_body_does_not_make_another_request(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    path, body, _ = CREATE[name]

    def reorder(value: Any) -> Any:
        return (
            {key: reorder(value[key]) for key in reversed(list(value))} if isinstance(value, dict) else value
        )

    headers = {"Idempotency-Key": "k", "Content-Type": "application/json"}
    client.post(f"{base}{path}", content=json.dumps(body(1)), headers=headers).raise_for_status()
    replay = client.post(f"{base}{path}", content=json.dumps(reorder(body(1)), indent=2), headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert _records(client, base) == 1


@pytest.mark.parametrize("name", SERVICES)
def test_same_key_with_another_body_is_refused_422(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    _post(client, base, name, 1, **{"Idempotency-Key": "key-1"}).raise_for_status()
    other = _post(client, base, name, 2, **{"Idempotency-Key": "key-1"})
    assert other.status_code == 422
    assert "Idempotency-Key" in other.text
    assert _records(client, base) == 1


@pytest.mark.parametrize("name", SERVICES)
def test_each_write_records_its_correlation_id(name: str, urls: dict[str, str], client: httpx.Client) -> None:
    base = urls[name]
    created = _post(client, base, name, 1, **{"X-Correlation-Id": "corr-create", "Idempotency-Key": "k1"})
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    _post(
        client,
        base,
        name,
        1,
        **{"X-Correlation-Id": "corr-resent", "Idempotency-Key": "k1", "traceparent": traceparent},
    )
    _, _, record_path = CREATE[name]
    client.delete(f"{base}{record_path(created.json())}", headers={"X-Correlation-Id": "corr-delete"})
    writes = client.get(f"{base}/_admin/writes", params={"record_id": record_id(name, created.json())}).json()
    assert [(w["method"], w["correlation_id"], w["replayed"]) for w in writes["writes"]] == [
        ("POST", "corr-create", False),
        ("POST", "corr-resent", True),
        ("DELETE", "corr-delete", False),
    ]
    assert writes["writes"][0]["idempotency_key"] == "k1"
    assert [w["traceparent"] for w in writes["writes"]] == [None, traceparent, None]
    by_correlation = client.get(f"{base}/_admin/writes", params={"correlation_id": "corr-delete"}).json()
    assert [w["method"] for w in by_correlation["writes"]] == ["DELETE"]


def _fault_sequence(client: httpx.Client, base: str, seed: int, calls: int = 40) -> list[int]:
    set_faults(client, base, error_rate=0.3, seed=seed)
    return [_probe(client, base) for _ in range(calls)]


def _probe(client: httpx.Client, base: str) -> int:
    """One vendor call that touches no record (an unknown path: 404 when it gets through)."""
    return client.get(f"{base}/no-such-path").status_code


@pytest.mark.parametrize("name", SERVICES)
def test_error_rate_is_reproducible_with_a_seed(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    first = _fault_sequence(client, base, seed=42)
    second = _fault_sequence(client, base, seed=42)
    other = _fault_sequence(client, base, seed=7)
    assert first == second
    assert first != other
    failures = [status for status in first if status >= 500]
    assert set(failures) <= {500, 503} and 4 <= len(failures) <= 24, first


@pytest.mark.parametrize("name", SERVICES)
def test_server_faults_answer_in_the_vendor_shape(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    set_faults(client, base, error_rate=1.0)
    response = _post(client, base, name, 1)
    assert response.status_code in (500, 503)
    body = response.json()
    assert {"support": "error", "commerce": "errors", "membership": "error"}[name] in body
    set_faults(client, base)
    assert _records(client, base) == 0


def test_latency_is_added_to_each_call(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    set_faults(client, base, latency_ms=300)
    started = time.perf_counter()
    client.get(f"{base}/members").raise_for_status()
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    client.get(f"{base}/_admin/health").raise_for_status()
    assert time.perf_counter() - started < 0.3, "admin calls are never delayed"


def test_a_timeout_before_processing_loses_the_call(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    set_faults(client, base, timeout_rate=1.0, timeout_phase="before", hang_ms=100)
    with pytest.raises(httpx.TransportError):
        _post(client, base, "support", 1, **{"Idempotency-Key": "k"})
    set_faults(client, base)
    assert _records(client, base) == 0
    retried = _post(client, base, "support", 1, **{"Idempotency-Key": "k"})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_a_timeout_after_processing_keeps_the_write_and_its_answer(
    urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls["commerce"]
    set_faults(client, base, timeout_rate=1.0, timeout_phase="after", hang_ms=100)
    with pytest.raises(httpx.TransportError):
        _post(client, base, "commerce", 1, **{"Idempotency-Key": "k"})
    set_faults(client, base)
    assert _records(client, base) == 1, "the write happened although the client never heard"
    retried = _post(client, base, "commerce", 1, **{"Idempotency-Key": "k"})
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert _records(client, base) == 1


def test_a_client_timeout_shorter_than_the_hang_times_out(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    set_faults(client, base, timeout_rate=1.0, hang_ms=2000)
    with pytest.raises(httpx.TimeoutException):
        client.get(f"{base}/members", timeout=0.2)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"error_rate": 1.5}, "error_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"rate_limit_per_s": 0}, "rate_limit_per_s"),
        ({"hang_ms": 600_000}, "hang_ms"),
        ({"timeout_phase": "during"}, "timeout_phase"),
        ({"error_rat": 0.3}, "error_rat"),
        ({"error_rate": 0.6, "timeout_rate": 0.6}, "error_rate + timeout_rate"),
    ],
)
def test_invalid_fault_config_is_refused_naming_the_field(
    config: dict[str, Any], field: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls["support"]
    set_faults(client, base, error_rate=0.1)
    response = client.put(f"{base}/_admin/faults", json=config)
    assert response.status_code == 400
    assert field in response.json()["description"]
    assert client.get(f"{base}/_admin/faults").json()["error_rate"] == 0.1, "nothing half-applied"


def test_fault_config_that_is_not_json_is_refused(urls: dict[str, str], client: httpx.Client) -> None:
    response = client.put(f"{urls['support']}/_admin/faults", content=b"{error_rate")
    assert response.status_code == 400 and "body" in response.json()["description"]


def test_admin_calls_bypass_faults(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    set_faults(client, base, error_rate=1.0, rate_limit_per_s=0.01, burst=1)
    assert all(client.get(f"{base}/_admin/health").status_code == 200 for _ in range(5))


def test_clock_needs_a_time_with_a_zone(urls: dict[str, str], client: httpx.Client) -> None:
    response = client.put(f"{urls['support']}/_admin/clock", json={"now": "2024-01-01T00:00:00"})
    assert response.status_code == 400 and "now" in response.json()["description"]


def test_reset_empties_storage_and_clears_faults(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    _post(client, base, "membership", 1).raise_for_status()
    set_faults(client, base, error_rate=0.5, seed=1)
    client.post(f"{base}/_admin/reset").raise_for_status()
    assert _records(client, base) == 0
    assert client.get(f"{base}/_admin/faults").json()["error_rate"] == 0.0
    assert client.get(f"{base}/_admin/writes").json() == {"writes": []}


@pytest.mark.parametrize("name", SERVICES)
def test_concurrent_writes_with_one_key_make_one_record(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    set_faults(client, base, latency_ms=20)  # widen the window in which the first call is still running
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(
                lambda _: _post(client, base, name, 1, **{"Idempotency-Key": "k"}).status_code, range(12)
            )
        )
    assert _records(client, base) == 1
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses


def test_concurrent_creates_with_one_external_id_make_one_user(
    urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls["support"]
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda _: _post(client, base, "support", 1).status_code, range(12)))
    assert sorted(statuses) == [201] + [422] * 11
    assert _records(client, base) == 1


#: name -> (three valid import records, the same with a fault at index 2 and the field it names)
IMPORTS: dict[str, tuple[list[dict[str, Any]], dict[str, Any], str]] = {
    "support": (
        [{"name": f"U{n}", "external_id": f"C{n}", "email": f"u{n}@example.com"} for n in range(3)],
        {"name": "U9", "email": "u0@EXAMPLE.com"},
        "email",
    ),
    "commerce": (
        [
            {"first_name": f"C{n}", "multipass_identifier": f"C{n}", "phone": f"+1415555267{n}"}
            for n in range(3)
        ],
        {"first_name": "C9", "phone": "555"},
        "phone",
    ),
    "membership": (
        [{"member_no": f"C{n}", "full_name": f"M{n}"} for n in range(3)],
        {"member_no": "C0", "full_name": "again"},
        "member_no",
    ),
}


@pytest.mark.parametrize("name", SERVICES)
def test_bulk_import_keeps_the_given_timestamps(
    name: str, urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls[name]
    records, _, _ = IMPORTS[name]
    stamps = {"created_at": "2020-01-02T03:04:05+00:00", "updated_at": "2021-06-07T08:09:10+00:00"}
    loaded = client.post(f"{base}/_admin/records", json={"records": [{**r, **stamps} for r in records]})
    assert loaded.status_code == 201 and loaded.json()["loaded"] == 3
    assert _records(client, base) == 3
    listed = _list_all(client, base, name)
    assert len(listed) == 3
    assert all(item["updated_at"].startswith("2021-06-07T08:09:10") for item in listed), listed


@pytest.mark.parametrize("name", SERVICES)
def test_bulk_import_is_all_or_nothing(name: str, urls: dict[str, str], client: httpx.Client) -> None:
    base = urls[name]
    records, bad, field = IMPORTS[name]
    refused = client.post(f"{base}/_admin/records", json={"records": [*records[:2], bad]})
    assert refused.status_code == 400
    assert refused.json()["description"].startswith(f"records[2].{field}:"), refused.json()
    assert _records(client, base) == 0
    typo = client.post(f"{base}/_admin/records", json={"records": [{**records[0], "updated": "yesterday"}]})
    assert typo.status_code == 400 and "records[0].updated" in typo.json()["description"]
    assert _records(client, base) == 0


def _list_all(client: httpx.Client, base: str, name: str) -> list[dict[str, Any]]:
    path = {"support": "/api/v2/users.json", "commerce": CREATE["commerce"][0], "membership": "/members"}[
        name
    ]
    body = client.get(f"{base}{path}").json()
    items: list[dict[str, Any]] = body.get("users") or body.get("customers") or body.get("members") or []
    return items
