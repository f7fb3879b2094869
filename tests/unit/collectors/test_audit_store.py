"""The audit store on a real PostgreSQL: exactly-once pages, day partitions, retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice

import psycopg
import pytest

import collectors.logs.store as log_store
from collectors.logs.collect import parse_page
from collectors.logs.parse import StreamContext
from collectors.logs.store import Position, commit_page, read_positions
from collectors.partitions import Partitions, partition_days
from collectors.retention import enforce
from collectors.settings import RetentionSettings
from sagawatch.migrations import apply_migrations

GROUP, STREAM = "/aws/lambda/f", "2026/11/24/[$LATEST]x"
CTX = StreamContext.of(GROUP, STREAM)
NOW = datetime.now(UTC)


@pytest.fixture
def audit(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    apply_migrations(fresh_db_url, "collectors.schema")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        yield conn


def page(first_seq: int, count: int, start: datetime = NOW) -> list[dict[str, object]]:
    base = int(start.timestamp() * 1000)
    return [{"timestamp": base + i, "message": f"line {first_seq + i}"} for i in range(count)]


def stored(conn: psycopg.Connection) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT seq, raw FROM log_lines ORDER BY seq").fetchall()]


def test_a_page_and_its_position_are_stored_together_once(audit: psycopg.Connection) -> None:
    partitions = Partitions()
    new = Position("f/2", 3)
    assert commit_page(audit, partitions, GROUP, STREAM, None, new, parse_page(CTX, 0, page(0, 3)))
    # a second writer that read the same (absent) position loses the race and stores nothing
    assert not commit_page(audit, partitions, GROUP, STREAM, None, new, parse_page(CTX, 0, page(0, 3)))
    assert stored(audit) == [(0, "line 0"), (1, "line 1"), (2, "line 2")]
    assert read_positions(audit, GROUP) == {STREAM: Position("f/2", 3, None)}
    following = Position("f/4", 5)
    assert commit_page(audit, partitions, GROUP, STREAM, new, following, parse_page(CTX, 3, page(3, 2)))
    assert not commit_page(audit, partitions, GROUP, STREAM, new, following, parse_page(CTX, 3, page(3, 2)))
    assert [seq for seq, _ in stored(audit)] == [0, 1, 2, 3, 4]


def test_a_page_that_fails_midway_leaves_no_rows_and_no_position(
    audit: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    partitions = Partitions()
    real_copy = log_store.copy_rows

    def copy_then_die(cur: psycopg.Cursor, rows: list[object], invocations: list[object]) -> None:
        real_copy(cur, islice(rows, 2), [])  # some rows reach the server ...
        raise RuntimeError("collector killed mid-page")  # ... then the process dies

    monkeypatch.setattr(log_store, "copy_rows", copy_then_die)
    events = parse_page(CTX, 0, page(0, 5))
    with pytest.raises(RuntimeError, match="killed"):
        commit_page(audit, partitions, GROUP, STREAM, None, Position("f/4", 5), events)
    assert stored(audit) == []
    assert read_positions(audit, GROUP) == {}
    monkeypatch.setattr(log_store, "copy_rows", real_copy)
    assert commit_page(audit, partitions, GROUP, STREAM, None, Position("f/4", 5), events)
    assert [seq for seq, _ in stored(audit)] == [0, 1, 2, 3, 4]


def test_problems_are_recorded_with_the_page(audit: psycopg.Connection) -> None:
    events = parse_page(CTX, 0, [{"timestamp": int(NOW.timestamp() * 1000), "message": "{broken"}])
    assert commit_page(audit, Partitions(), GROUP, STREAM, None, Position("f/0", 1), events)
    kinds = audit.execute("SELECT kind, source, sample FROM collector_errors").fetchall()
    assert kinds == [("malformed_json", f"{GROUP} {STREAM} #0", "{broken")]
    assert stored(audit) == [(0, "{broken")]


def test_text_postgresql_refuses_is_replaced_so_the_stream_goes_on(audit: psycopg.Connection) -> None:
    """NUL and lone surrogates (JSON escapes in a field, or in the raw line) would fail the page on
    every pass; they are replaced and reported, and the page's other lines are stored untouched."""
    ts = int(NOW.timestamp() * 1000)
    messages = [
        '{"level": "INFO", "message": "nul \\u0000 here"}',
        '{"level": "INFO", "message": "half \\ud800 a pair"}',
        "raw \ud800 surrogate",
        "an ordinary line",
    ]
    events = parse_page(CTX, 0, [{"timestamp": ts + i, "message": m} for i, m in enumerate(messages)])
    assert commit_page(audit, Partitions(), GROUP, STREAM, None, Position("f/3", 4), events)
    rows = audit.execute("SELECT seq, message, raw FROM log_lines ORDER BY seq").fetchall()
    assert rows == [
        (0, "nul \ufffd here", messages[0]),
        (1, "half \ufffd a pair", messages[1]),
        (2, None, "raw \ufffd surrogate"),
        (3, None, "an ordinary line"),
    ]
    replaced = audit.execute("SELECT source FROM collector_errors WHERE kind = 'text_replaced'").fetchall()
    assert sorted(r[0] for r in replaced) == [f"{GROUP} {STREAM} #{i}" for i in range(3)]
    assert read_positions(audit, GROUP) == {STREAM: Position("f/3", 4, None)}


def test_rows_of_past_days_get_their_own_partitions_and_retention_drops_them(
    audit: psycopg.Connection,
) -> None:
    partitions = Partitions()
    old = NOW - timedelta(days=20)
    commit_page(audit, partitions, GROUP, STREAM, None, Position("a", 2), parse_page(CTX, 0, page(0, 2, old)))
    commit_page(
        audit, partitions, GROUP, STREAM, Position("a", 2), Position("b", 4), parse_page(CTX, 2, page(2, 2))
    )
    days = partition_days(audit, "log_lines")
    assert days == sorted({old.date(), NOW.date()})
    report = enforce(audit, RetentionSettings(logs_days=14), partitions, NOW)
    # a page's days get both tables' partitions (a day's REPORT lines are only known once parsed)
    assert report.dropped_partitions == [f"log_lines_p{old:%Y%m%d}", f"invocations_p{old:%Y%m%d}"]
    assert partition_days(audit, "log_lines") == partition_days(audit, "invocations") == [NOW.date()]
    assert [seq for seq, _ in stored(audit)] == [2, 3]


def test_batched_deletes_trim_unpartitioned_tables(audit: psycopg.Connection) -> None:
    audit.execute(
        "INSERT INTO collector_errors (at, kind, source, detail)"
        " SELECT now() - (i || ' days')::interval, 'k', 's', 'd' FROM generate_series(0, 29) i"
    )
    audit.execute(
        "INSERT INTO spans (trace_id, span_id, name, start_time, end_time, duration_ms)"
        " SELECT 't', 's' || i, 'n', now() - (i || ' days')::interval, now(), 1 FROM generate_series(0, 9) i"
    )
    report = enforce(
        audit, RetentionSettings(errors_days=14, spans_days=7, delete_batch=4), Partitions(), NOW
    )
    # days 15..29 go; day 14 stays (SQL's now() is later than NOW, so that row is inside the window)
    assert report.deleted_rows["collector_errors"] == 15
    assert report.deleted_rows["spans"] == 2  # days 8 and 9
    remaining = audit.execute("SELECT count(*) FROM collector_errors").fetchone()
    assert remaining == (15,)


def test_partition_for_a_day_is_made_once(audit: psycopg.Connection) -> None:
    partitions = Partitions()
    day = date(2026, 1, 1)
    partitions.ensure_days(audit, "queue_samples", [day, day])
    partitions.ensure_days(audit, "queue_samples", [day])
    assert partition_days(audit, "queue_samples") == [day]
    with pytest.raises(ValueError, match="not a partitioned"):
        partitions.ensure_days(audit, "sagas", [day])


def test_binary_copy_types_match_the_tables(audit: psycopg.Connection) -> None:
    from collectors.logs.parse import INVOCATION_COLUMNS, INVOCATION_TYPES, LOG_COLUMNS, LOG_TYPES

    short = {
        "timestamp with time zone": "timestamptz",
        "bigint": "int8",
        "integer": "int4",
        "double precision": "float8",
    }
    for table, columns, types in (
        ("log_lines", LOG_COLUMNS, LOG_TYPES),
        ("invocations", INVOCATION_COLUMNS, INVOCATION_TYPES),
    ):
        found = dict(
            audit.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
                (table,),
            ).fetchall()
        )
        assert [short.get(found[c], found[c]) for c in columns] == list(types), table


def test_a_day_dropped_by_another_process_is_made_again(audit: psycopg.Connection) -> None:
    partitions = Partitions()
    old = NOW - timedelta(days=3)
    commit_page(audit, partitions, GROUP, STREAM, None, Position("a", 1), parse_page(CTX, 0, page(0, 1, old)))
    audit.execute(f"DROP TABLE log_lines_p{old:%Y%m%d}")  # as another collector's retention would
    assert commit_page(
        audit,
        partitions,
        GROUP,
        STREAM,
        Position("a", 1),
        Position("b", 2),
        parse_page(CTX, 1, page(1, 1, old)),
    )
    assert stored(audit) == [(1, "line 1")]
