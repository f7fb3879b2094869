"""Which customers a live saga is still moving, so the diff defers them instead of reporting.

A saga row (``saga`` table, ``sagawatch.contracts.saga``) names the customers
it touches in its ``payload``: ``cust_no`` or any ``*_cust_no`` key holds one
cust_no, ``cust_nos`` or any ``*_cust_nos`` key a list (the member-merge saga
has ``source_cust_nos`` and ``target_cust_no``). Saga writers follow this so
the reconciler can read it without knowing each saga type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.normalise import canonical_key
from sagawatch.contracts.saga import TERMINAL_STATUSES, SagaStatus

#: For the Aurora source's query: ``WHERE status = ANY(%s)``.
LIVE_STATUSES: tuple[str, ...] = tuple(s.value for s in SagaStatus if s not in TERMINAL_STATUSES)


def payload_cust_nos(payload: Mapping[str, Any]) -> set[str]:
    """The canonical keys a saga payload names (see the module docstring for the convention)."""
    keys: set[str] = set()
    for name, value in payload.items():
        if (name == "cust_no" or name.endswith("_cust_no")) and isinstance(value, str):
            keys.add(canonical_key(value))
        elif (name == "cust_nos" or name.endswith("_cust_nos")) and isinstance(value, list):
            keys.update(canonical_key(v) for v in value if isinstance(v, str))
    keys.discard("")
    return keys


def in_flight_keys(sagas: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Keys held by sagas that are not terminal; each item has ``status`` and ``payload``."""
    held: set[str] = set()
    for saga in sagas:
        try:
            status = SagaStatus(saga["status"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"saga {saga.get('id')!r}: field 'status' is missing or unknown: {exc}") from exc
        if status in TERMINAL_STATUSES:
            continue
        payload = saga.get("payload") or {}
        if not isinstance(payload, Mapping):
            raise ValueError(f"saga {saga.get('id')!r}: field 'payload' must be an object")
        held |= payload_cust_nos(payload)
    return frozenset(held)
