"""Inject every drift kind into a mirrored world, the way it happens: SQL into Aurora, API calls to a SaaS.

``baseline`` builds ``size`` customers in Aurora and identical copies in every
simulator; ``inject`` then bends it, ``per_kind`` cases of each kind, plus
drifted keys held by live sagas (which must be deferred, not reported), and
returns the findings a correct reconciler reports: ``(kind, system, key, field)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from reconciler.model import Finding

from .world import SYSTEMS, add_saga, copy_for, insert_rows, mirror_everywhere, row

Expected = tuple[str, str, str, str | None]
COMMERCE = "/admin/api/2025-01"


@dataclass
class Injected:
    expected: set[Expected] = field(default_factory=set)
    in_flight: set[str] = field(default_factory=set)


def baseline(aurora_url: str, client: httpx.Client, urls: Mapping[str, str], size: int) -> None:
    rows = [row(n) for n in range(size)]
    insert_rows(aurora_url, rows)
    mirror_everywhere(client, urls, rows)


def saas_id(client: httpx.Client, urls: Mapping[str, str], system: str, key: str) -> str:
    """The id of the one record holding ``key`` (read straight from the simulator's API)."""
    if system == "support":
        found = client.get(f"{urls[system]}/api/v2/users/show_many.json", params={"external_ids": key})
        items = found.json()["users"]
    elif system == "commerce":
        query = {"query": f"multipass_identifier:{key}"}
        items = client.get(f"{urls[system]}{COMMERCE}/customers/search.json", params=query).json()[
            "customers"
        ]
    else:
        items = client.get(f"{urls[system]}/members", params={"member_no": key}).json()["members"]
    assert len(items) == 1, f"{system} {key}: {len(items)} records"
    return str(items[0]["id"])


def put(
    client: httpx.Client, urls: Mapping[str, str], system: str, record_id: str, fields: dict[str, Any]
) -> None:
    if system == "support":
        answer = client.put(f"{urls[system]}/api/v2/users/{record_id}.json", json={"user": fields})
    elif system == "commerce":
        answer = client.put(f"{urls[system]}{COMMERCE}/customers/{record_id}.json", json={"customer": fields})
    else:
        answer = client.put(f"{urls[system]}/members/{record_id}", json=fields)
    assert answer.status_code == 200, answer.text


def post(client: httpx.Client, urls: Mapping[str, str], system: str, fields: dict[str, Any]) -> None:
    if system == "support":
        answer = client.post(f"{urls[system]}/api/v2/users.json", json={"user": fields})
    elif system == "commerce":
        answer = client.post(f"{urls[system]}{COMMERCE}/customers.json", json={"customer": fields})
    else:
        answer = client.post(f"{urls[system]}/members", json=fields)
    assert answer.status_code == 201, answer.text


def _created(system: str, n: int, cust_no: str) -> dict[str, Any]:
    fields = {k: v for k, v in copy_for(system, row(n, cust_no=cust_no)).items() if not k.endswith("_at")}
    return fields


def inject(
    aurora_url: str, client: httpx.Client, urls: Mapping[str, str], size: int, per_kind: int
) -> Injected:
    """Drift on keys below ``size`` (which ``baseline`` mirrored) and on new keys above it."""
    assert size >= 6 * per_kind, "the baseline needs room for every kind's keys"
    out = Injected()
    keys = iter(range(size))

    # missing_in_saas: a new Aurora customer (SQL), copied to two of the three systems only.
    for i in range(per_kind):
        n = size + i
        missing_from = SYSTEMS[i % 3]
        insert_rows(aurora_url, [row(n, updated_at=_db_now(aurora_url))])
        for system in SYSTEMS:
            if system != missing_from:
                post(client, urls, system, _created(system, n, f"C{n:07d}"))
        out.expected.add(("missing_in_saas", missing_from, f"C{n:07d}", None))

    # orphan_in_saas: a SaaS record whose cust_no Aurora never had (API create).
    for i in range(per_kind):
        system = SYSTEMS[i % 3]
        post(client, urls, system, _created(system, 900_000 + i, f"X{i:07d}"))
        out.expected.add(("orphan_in_saas", system, f"X{i:07d}", None))

    # field_mismatch: most through a SaaS API (one system), some through Aurora SQL (all three systems).
    for i in range(per_kind):
        n = next(keys)
        key = f"C{n:07d}"
        if i % 4 == 3:
            with psycopg.connect(aurora_url) as conn:
                conn.execute(
                    "UPDATE customer SET email = %s, updated_at = now() WHERE cust_no = %s",
                    (f"changed{n}@example.org", key),
                )
            out.expected |= {("field_mismatch", system, key, "email") for system in SYSTEMS}
        else:
            system = SYSTEMS[i % 3]
            put(client, urls, system, saas_id(client, urls, system, key), {"email": f"other{n}@example.net"})
            out.expected.add(("field_mismatch", system, key, "email"))

    # duplicate_in_saas: a second commerce customer with the same cust_no (only commerce allows it).
    for _ in range(per_kind):
        n = next(keys)
        fields = _created("commerce", 800_000 + n, f"C{n:07d}")
        post(client, urls, "commerce", fields)
        out.expected.add(("duplicate_in_saas", "commerce", f"C{n:07d}", None))

    # stale: Aurora changed (SQL), no mapped field differs, the SaaS copies are a day older.
    for _ in range(per_kind):
        n = next(keys)
        with psycopg.connect(aurora_url) as conn:
            conn.execute("UPDATE customer SET updated_at = now() WHERE cust_no = %s", (f"C{n:07d}",))
        out.expected |= {("stale", system, f"C{n:07d}", "updated_at") for system in SYSTEMS}

    # In flight: drift a live saga is still fixing (Aurora and one SaaS), which must not be reported.
    for i in range(per_kind):
        n = next(keys)
        key = f"C{n:07d}"
        system = SYSTEMS[i % 3]
        put(client, urls, system, saas_id(client, urls, system, key), {"email": f"moving{n}@example.net"})
        add_saga(
            aurora_url, f"saga-live-{n}", ("RUNNING", "PENDING", "COMPENSATING")[i % 3], {"cust_no": key}
        )
        out.in_flight.add(key)
    return out


def _db_now(aurora_url: str) -> Any:
    with psycopg.connect(aurora_url) as conn:
        found = conn.execute("SELECT now()").fetchone()
    assert found is not None
    return found[0]


def as_expected(findings: Iterable[Finding] | Iterable[dict[str, Any]]) -> set[Expected]:
    """Findings (models, or objects of a JSON report) as comparable tuples."""
    out: set[Expected] = set()
    for f in findings:
        data = f.model_dump(mode="json") if isinstance(f, Finding) else f
        out.add((str(data["kind"]), str(data["system"]), str(data["key"]), data["field"]))
    return out
