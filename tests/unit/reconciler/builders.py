"""Test data: Aurora customer rows and their SaaS mirrors, and a one-call diff."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.compare import DiffPolicy
from reconciler.diff import diff_sorted
from reconciler.mapping import SystemMapping, aurora_record
from reconciler.model import Outcome, Record

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTLED = NOW - timedelta(days=2)


def customer(n: int, **overrides: Any) -> dict[str, Any]:
    """An ACTIVE Aurora customer row, settled two days before ``NOW``."""
    row: dict[str, Any] = {
        "cust_no": f"C{n:06d}",
        "family_name": "Yamada",
        "given_name": f"Taro{n}",
        "email": f"taro{n}@example.com",
        "phone": f"090-{n // 10000 % 10000:04d}-{n % 10000:04d}",
        "status": "ACTIVE",
        "created_at": SETTLED - timedelta(days=30),
        "updated_at": SETTLED,
    }
    row.update(overrides)
    return row


def mirror(mapping: SystemMapping, row: dict[str, Any], saas_id: int, **overrides: Any) -> dict[str, Any]:
    """The SaaS object a correct sync would have written for ``row``."""
    obj = mapping.project(row)
    obj[mapping.id_field] = saas_id
    obj[mapping.updated_at_field] = row["updated_at"].isoformat()
    obj.update(overrides)
    return obj


def sorted_records(mapping: SystemMapping, objects: Iterable[dict[str, Any]]) -> list[Record]:
    return sorted((mapping.record(o) for o in objects), key=lambda r: r.key)


def aurora_records(rows: Iterable[dict[str, Any]]) -> list[Record]:
    return sorted((aurora_record(r) for r in rows), key=lambda r: r.key)


def run(
    mapping: SystemMapping,
    rows: Iterable[dict[str, Any]],
    objects: Iterable[dict[str, Any]],
    policy: DiffPolicy | None = None,
    **kwargs: Any,
) -> list[Outcome]:
    """A full sweep over in-memory data."""
    return list(
        diff_sorted(
            mapping,
            policy or DiffPolicy(now=NOW),
            aurora_records(rows),
            sorted_records(mapping, objects),
            **kwargs,
        )
    )
