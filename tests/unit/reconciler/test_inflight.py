"""Keys held by live sagas, read from saga rows' payloads."""

from __future__ import annotations

import pytest

from reconciler.inflight import LIVE_STATUSES, in_flight_keys, payload_cust_nos


def test_live_sagas_hold_their_customers_and_finished_ones_do_not() -> None:
    sagas = [
        {"id": "s1", "status": "RUNNING", "payload": {"cust_no": "c000001"}},
        {
            "id": "s2",
            "status": "COMPENSATING",
            "payload": {"source_cust_nos": ["C000002", "C000003"], "target_cust_no": "C000004"},
        },
        {"id": "s3", "status": "SUCCEEDED", "payload": {"cust_no": "C000005"}},
        {"id": "s4", "status": "MANUAL_INTERVENTION", "payload": {"cust_no": "C000006"}},
        {"id": "s5", "status": "PENDING", "payload": {}},
    ]
    assert in_flight_keys(sagas) == {"C000001", "C000002", "C000003", "C000004"}


def test_payload_ignores_unrelated_and_malformed_values() -> None:
    assert payload_cust_nos(
        {"cust_no": 42, "cust_nos": "C1", "order_id": "C2", "customer_cust_nos": ["C3", None, " "]}
    ) == {"C3"}


def test_live_statuses_are_the_non_terminal_ones() -> None:
    assert set(LIVE_STATUSES) == {"PENDING", "RUNNING", "COMPENSATING"}


def test_a_saga_row_with_a_bad_status_is_named() -> None:
    with pytest.raises(ValueError, match="saga 's9': field 'status' is missing or unknown"):
        in_flight_keys([{"id": "s9", "status": "PAUSED", "payload": {}}])
