"""The Aurora source over a real PostgreSQL with the app's schema."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from reconciler.sources.aurora import AuroraSource
from reconciler.sources.base import SourceError, Watermark

from .world import NOW, add_saga, insert_rows, row


def test_sweep_is_in_canonical_key_order_whatever_the_case(aurora_url: str) -> None:
    # Mixed case and characters that sort differently under a natural-language collation.
    rows = [
        row(1, cust_no="c0000003"),
        row(2, cust_no="C0000001"),
        row(3, cust_no="C-0000002"),
        row(4, cust_no="C_9"),
    ]
    insert_rows(aurora_url, rows)
    keys = [r.key for r in AuroraSource(aurora_url, fetch_size=2).iter_sorted()]
    assert keys == sorted(keys) == ["C-0000002", "C0000001", "C0000003", "C_9"]


def test_key_range_is_half_open(aurora_url: str) -> None:
    insert_rows(aurora_url, [row(n) for n in range(10)])
    keys = [r.key for r in AuroraSource(aurora_url).iter_sorted("C0000003", "C0000006")]
    assert keys == ["C0000003", "C0000004", "C0000005"]


def test_changed_since_and_get_many(aurora_url: str) -> None:
    insert_rows(
        aurora_url, [row(n) for n in range(10)] + [row(10, updated_at=NOW), row(11, cust_no="c0000011")]
    )
    source = AuroraSource(aurora_url, batch_size=3)
    assert [r.key for r in source.changed_since(Watermark(NOW - timedelta(minutes=1)))] == ["C0000010"]
    found = [
        (r.key, r.raw_id) for r in source.get_many(["C0000001", "C0000011", "C0000009", "NOPE", "C0000002"])
    ]
    assert sorted(found) == [
        ("C0000001", "C0000001"),
        ("C0000002", "C0000002"),
        ("C0000009", "C0000009"),
        ("C0000011", "c0000011"),  # stored in lower case, found by its canonical key
    ]
    assert source.rows(["C0000004"])["C0000004"]["email"] == "taro4@example.com"


def test_in_flight_reads_live_sagas_only(aurora_url: str) -> None:
    add_saga(aurora_url, "s1", "RUNNING", {"cust_no": "c0000001"})
    add_saga(
        aurora_url, "s2", "COMPENSATING", {"source_cust_nos": ["C0000002"], "target_cust_no": "C0000003"}
    )
    add_saga(aurora_url, "s3", "SUCCEEDED", {"cust_no": "C0000004"})
    assert AuroraSource(aurora_url).in_flight() == {"C0000001", "C0000002", "C0000003"}


def test_sweep_holds_one_fetch_at_a_time(aurora_url: str) -> None:
    insert_rows(aurora_url, [row(n) for n in range(50)])
    stream = AuroraSource(aurora_url, fetch_size=10).iter_sorted()
    first = next(stream)
    with psycopg.connect(aurora_url) as conn:
        cursors = conn.execute("SELECT name FROM pg_cursors").fetchall()  # this session's only
        open_portals = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE query LIKE '%%reconcile_stream%%' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert first.key == "C0000000" and cursors == []
    assert open_portals is not None and open_portals[0] == 1  # a server-side cursor, not a client-side fetch
    assert sum(1 for _ in stream) == 49  # and the stream ends (its connection closed) when read out


def test_unreachable_aurora_is_a_source_error_without_the_password() -> None:
    source = AuroraSource("postgresql://reconciler:s3cret@127.0.0.1:1/aurora?connect_timeout=2")
    with pytest.raises(SourceError, match="aurora: cannot connect") as caught:
        list(source.iter_sorted())
    assert "s3cret" not in str(caught.value)
