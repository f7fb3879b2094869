"""A small live world for reconciler tests: Aurora rows in PostgreSQL, their copies in the simulators.

``copy_for`` is what a correct sync would have written into a SaaS (the
mapping's projection, in the simulator's own import shape); tests then bend
one side or the other to make drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Jsonb

from reconciler.mapping import mapping_for

NOW = datetime.now(UTC).replace(microsecond=0)
AURORA_AT = NOW - timedelta(days=2)
SAAS_AT = NOW - timedelta(days=1)
COLUMNS = ("cust_no", "family_name", "given_name", "email", "phone", "status", "created_at", "updated_at")
SYSTEMS = ("commerce", "membership", "support")


def row(n: int, **overrides: Any) -> dict[str, Any]:
    """An ACTIVE customer settled two days ago, with a valid, unique Japanese mobile number."""
    base: dict[str, Any] = {
        "cust_no": f"C{n:07d}",
        "family_name": "Yamada",
        "given_name": f"Taro{n}",
        "email": f"taro{n}@example.com",
        "phone": f"090-{1000 + n // 10000 % 9000:04d}-{n % 10000:04d}",
        "status": "ACTIVE",
        "created_at": AURORA_AT - timedelta(days=30),
        "updated_at": AURORA_AT,
    }
    base.update(overrides)
    return base


def insert_rows(aurora_url: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """COPY rows into ``customer``."""
    count = 0
    with (
        psycopg.connect(aurora_url) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY customer ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for r in rows:
            copy.write_row([r[c] for c in COLUMNS])
            count += 1
    return count


def copy_for(system: str, r: Mapping[str, Any], updated_at: datetime = SAAS_AT) -> dict[str, Any]:
    """The simulator import record a correct sync of ``r`` would have produced."""
    record = mapping_for(system).project(r)
    if system == "membership":
        record["status"] = str(record["status"]).lower()
    record["created_at"] = (updated_at - timedelta(days=1)).isoformat()
    record["updated_at"] = updated_at.isoformat()
    return record


def load(client: httpx.Client, url: str, records: Sequence[Mapping[str, Any]], chunk: int = 50_000) -> None:
    """Bulk import into a simulator (``POST /_admin/records``), in chunks it accepts."""
    for start in range(0, len(records), chunk):
        answer = client.post(f"{url}/_admin/records", json={"records": list(records[start : start + chunk])})
        if answer.status_code != 201:
            raise AssertionError(f"{url}: import refused: {answer.status_code} {answer.text[:300]}")


def mirror_everywhere(
    client: httpx.Client, urls: Mapping[str, str], rows: Sequence[Mapping[str, Any]]
) -> None:
    for system in SYSTEMS:
        load(client, urls[system], [copy_for(system, r) for r in rows])


def add_saga(aurora_url: str, saga_id: str, status: str, payload: Mapping[str, Any]) -> None:
    with psycopg.connect(aurora_url) as conn:
        conn.execute(
            "INSERT INTO saga (id, saga_type, correlation_id, status, payload)"
            " VALUES (%s, 'customer_create', %s, %s, %s)",
            (saga_id, f"corr-{saga_id}", status, Jsonb(dict(payload))),
        )
