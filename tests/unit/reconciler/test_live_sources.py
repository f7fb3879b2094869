"""The SaaS sources and writers against the real simulators over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from reconciler.sources.base import SourceError, Watermark
from reconciler.sources.http import RetryPolicy
from reconciler.sources.registry import saas_source, saas_writer
from reconciler.sources.saas import SaasSource
from reconciler.sources.writer import WriteContext

from .world import NOW, SAAS_AT, SYSTEMS, copy_for, load, row

FAST_RETRY = RetryPolicy(attempts=12, initial_wait_s=0.01, max_wait_s=1.0)
#: More than one page everywhere (support 100, membership 200, commerce 250 per page; bulk export 100 here).
COUNT = 260
EXPORT_LIMIT = 100


@pytest.fixture
def http(saas_urls: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    clients = {s: httpx.Client(base_url=saas_urls[s], timeout=10.0) for s in SYSTEMS}
    yield clients
    for client in clients.values():
        client.close()


def _source(system: str, client: httpx.Client, tmp_path: Path) -> SaasSource:
    # Small bulk-export pages, so a sweep walks the export's cursor across pages.
    return saas_source(
        system, client, retry=FAST_RETRY, export_limit=EXPORT_LIMIT, sort_chunk_size=64, spill_dir=tmp_path
    )


def _seed(admin: httpx.Client, url: str, system: str, count: int = COUNT) -> None:
    # Loaded in descending cust_no order, so the API's id order is the reverse of key order.
    load(admin, url, [copy_for(system, row(n)) for n in reversed(range(count))])


@pytest.mark.parametrize("system", SYSTEMS)
def test_full_listing_comes_back_in_key_order_across_pages(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    _seed(admin, saas_urls[system], system)
    records = list(_source(system, http[system], tmp_path).iter_sorted())
    assert [r.key for r in records] == [f"C{n:07d}" for n in range(COUNT)]
    assert all(r.system == system and r.raw_id for r in records)
    assert records[5].fields[{"support": "email", "commerce": "email", "membership": "email"}[system]] == (
        "taro5@example.com"
    )


@pytest.mark.parametrize("system", SYSTEMS)
def test_key_range_limits_the_listing(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    _seed(admin, saas_urls[system], system, 30)
    keys = [r.key for r in _source(system, http[system], tmp_path).iter_sorted("C0000010", "C0000020")]
    assert keys == [f"C{n:07d}" for n in range(10, 20)]


@pytest.mark.parametrize("system", SYSTEMS)
def test_changed_since_returns_only_later_changes(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    old = [copy_for(system, row(n), updated_at=SAAS_AT) for n in range(250)]
    new = [copy_for(system, row(n), updated_at=NOW - timedelta(minutes=1)) for n in range(250, 255)]
    load(admin, saas_urls[system], old + new)
    changed = _source(system, http[system], tmp_path).changed_since(Watermark(NOW - timedelta(hours=1)))
    assert sorted(r.key for r in changed) == [f"C{n:07d}" for n in range(250, 255)]


@pytest.mark.parametrize("system", SYSTEMS)
def test_get_many_finds_keys_whatever_their_case(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    records = [copy_for(system, row(n)) for n in range(120)]
    records[7] = copy_for(system, row(7, cust_no="c0000007"))  # stored in lower case
    load(admin, saas_urls[system], records)
    wanted = [f"C{n:07d}" for n in (3, 7, 110)] + ["C9999999"]
    found = sorted(r.key for r in _source(system, http[system], tmp_path).get_many(wanted))
    assert found == ["C0000003", "C0000007", "C0000110"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_get_many_reads_hundreds_of_keys_a_hundred_a_call_and_a_key_with_a_comma_on_its_own(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    records = [copy_for(system, row(n)) for n in range(250)] + [copy_for(system, row(999, cust_no="C,999"))]
    load(admin, saas_urls[system], records)
    wanted = [f"C{n:07d}" for n in range(0, 300, 2)] + ["C,999"]
    found = sorted(r.key for r in _source(system, http[system], tmp_path).get_many(wanted))
    assert found == sorted([f"C{n:07d}" for n in range(0, 250, 2)] + ["C,999"])


def test_soft_deleted_support_users_are_not_listed(
    saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    records = [copy_for("support", row(n)) for n in range(5)]
    records[2]["active"] = False
    load(admin, saas_urls["support"], records)
    keys = [r.key for r in _source("support", http["support"], tmp_path).iter_sorted()]
    assert keys == ["C0000000", "C0000001", "C0000003", "C0000004"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_rate_limit_and_server_errors_are_waited_out_without_losing_a_page(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    _seed(admin, saas_urls[system], system)
    faults = {"error_rate": 0.3, "rate_limit_per_s": 50, "burst": 2, "seed": 7}
    admin.put(f"{saas_urls[system]}/_admin/faults", json=faults).raise_for_status()
    source = _source(system, http[system], tmp_path)
    keys = [r.key for r in source.iter_sorted()]
    assert keys == [f"C{n:07d}" for n in range(COUNT)]
    assert source.http.retries > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_system_that_keeps_failing_is_a_source_error_naming_it(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    admin.put(f"{saas_urls[system]}/_admin/faults", json={"error_rate": 1.0}).raise_for_status()
    source = saas_source(
        system, http[system], retry=RetryPolicy(attempts=2, initial_wait_s=0.01, max_wait_s=0.02)
    )
    with pytest.raises(SourceError, match=rf"^{system}: GET .* HTTP 50[03] \(after 2 attempts\)"):
        list(source.iter_sorted())


@pytest.mark.parametrize("system", SYSTEMS)
def test_writer_creates_updates_and_deletes_with_idempotency_keys(
    system: str, saas_urls: dict[str, str], admin: httpx.Client, http: dict[str, httpx.Client], tmp_path: Path
) -> None:
    from reconciler.mapping import mapping_for

    writer = saas_writer(system, http[system], retry=FAST_RETRY)
    source = _source(system, http[system], tmp_path)
    fields = mapping_for(system).project(row(1))
    ctx = WriteContext(idempotency_key="reconcile-test-1", correlation_id="corr-test-1")
    first = writer.create(fields, ctx)
    again = writer.create(fields, ctx)  # a retry after a lost answer: replayed, not created twice
    assert first == again
    assert [r.raw_id for r in source.iter_sorted()] == [first]

    writer.update(
        first, mapping_for(system).project(row(1, email="new1@example.com")), WriteContext("k-2", "c-2")
    )
    (record,) = list(source.get_many(["C0000001"]))
    assert record.fields["email"] == "new1@example.com"

    writer.delete(first, WriteContext("k-3", "c-3"))
    writer.delete(first, WriteContext("k-4", "c-4"))  # already gone is success
    assert list(source.iter_sorted()) == []
    log = admin.get(f"{saas_urls[system]}/_admin/writes", params={"correlation_id": "corr-test-1"}).json()
    assert [w["idempotency_key"] for w in log["writes"]] == ["reconcile-test-1", "reconcile-test-1"]
    assert [w["replayed"] for w in log["writes"]] == [False, True]


def test_unknown_system_is_named() -> None:
    with httpx.Client() as client, pytest.raises(KeyError, match="unknown system 'crm'"):
        saas_source("crm", client)
