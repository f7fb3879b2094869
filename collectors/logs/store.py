"""Writing one page of a log stream: rows, REPORT rows, problems and the new position in ONE transaction.

The position is advanced with a compare-and-set on the token it was read from. So:
- a pass that dies midway (process killed, exception) rolls its page back with its position, and the
  next pass reads that page again: no gap, no duplicate;
- two collectors racing on one stream cannot both store a page: the second one's compare fails, it
  rolls back and leaves the stream to the first.
The primary key (group, stream, seq, ts) stands behind both as a last guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from collectors.errors import CollectorError, write_errors
from collectors.logs.parse import (
    INVOCATION_COLUMNS,
    INVOCATION_TYPES,
    LOG_COLUMNS,
    LOG_TYPES,
    InvocationRow,
    LogRow,
    ParsedEvent,
    StreamContext,
    parse_event,
)
from collectors.partitions import Partitions, day_of
from collectors.storable import UNSTORABLE, storable


@dataclass(frozen=True)
class Position:
    """How far a stream has been stored: the token to read from next and the next event's ordinal."""

    token: str | None
    next_seq: int
    last_ingestion_ms: int | None = None


def read_positions(conn: psycopg.Connection, log_group: str) -> dict[str, Position]:
    rows = conn.execute(
        "SELECT log_stream, token, next_seq, last_ingestion_ms FROM log_positions WHERE log_group = %s",
        (log_group,),
    ).fetchall()
    return {stream: Position(token, next_seq, last) for stream, token, next_seq, last in rows}


# Binary COPY: psycopg's C dumpers write the values without formatting them as text first.
_COPY_LOGS = sql.SQL("COPY log_lines ({}) FROM STDIN (FORMAT BINARY)").format(
    sql.SQL(", ").join(map(sql.Identifier, LOG_COLUMNS))
)
_COPY_INVOCATIONS = sql.SQL("COPY invocations ({}) FROM STDIN (FORMAT BINARY)").format(
    sql.SQL(", ").join(map(sql.Identifier, INVOCATION_COLUMNS))
)


def copy_rows(cur: psycopg.Cursor, rows: Iterable[LogRow], invocations: Sequence[InvocationRow]) -> None:
    """COPY the page's rows, then its invocations (the fast path: no per-row statement).

    ``rows`` may be a generator that fills ``invocations`` as it is consumed: the second COPY starts
    after the first has taken every row.
    """
    with cur.copy(_COPY_LOGS) as copy:
        copy.set_types(LOG_TYPES)
        for row in rows:
            copy.write_row(row)
    if invocations:
        with cur.copy(_COPY_INVOCATIONS) as copy:
            copy.set_types(INVOCATION_TYPES)
            for invocation in invocations:
                copy.write_row(invocation)


@dataclass(frozen=True)
class PageCounts:
    lines: int
    invocations: int
    problems: int


def commit_page(
    conn: psycopg.Connection,
    partitions: Partitions,
    log_group: str,
    log_stream: str,
    old: Position | None,
    new: Position,
    events: Sequence[ParsedEvent],
) -> bool:
    """Store parsed events and move the position from ``old`` to ``new``; False if another writer
    moved it. ``conn`` must be in autocommit mode: the page is its own transaction."""
    days = {day_of(e.row.ts) for e in events}
    return _commit(conn, partitions, log_group, log_stream, old, new, days, lambda: events) is not None


def commit_raw_page(
    conn: psycopg.Connection,
    partitions: Partitions,
    ctx: StreamContext,
    old: Position | None,
    new: Position,
    first_seq: int,
    events: Sequence[Mapping[str, Any]],
) -> PageCounts | None:
    """Like ``commit_page`` for a ``get_log_events`` page as read, parsed line by line while it is
    copied (None if another writer moved the position).

    Why not parse the page first: 10,000 parsed rows held at once outlive the garbage collector's
    young generations, and their promotion triggers full collections that traverse every object of
    the process (about 2 us per line measured; more beside an in-process moto holding its events).
    Rows made and written one at a time die young.
    """
    days = {_epoch_day(int(e["timestamp"])) for e in events}

    def parsed() -> Iterator[ParsedEvent]:
        for i, event in enumerate(events):
            yield parse_event(ctx, first_seq + i, int(event["timestamp"]), str(event.get("message", "")))

    return _commit(conn, partitions, ctx.log_group, ctx.log_stream, old, new, days, parsed)


def _epoch_day(timestamp_ms: int) -> date:
    return _EPOCH + timedelta(days=timestamp_ms // 86_400_000)


_EPOCH = date(1970, 1, 1)


def _commit(
    conn: psycopg.Connection,
    partitions: Partitions,
    log_group: str,
    log_stream: str,
    old: Position | None,
    new: Position,
    days: set[date],
    events: Callable[[], Iterable[ParsedEvent]],
) -> PageCounts | None:
    try:
        return _store(conn, partitions, log_group, log_stream, old, new, days, events())
    except psycopg.errors.CheckViolation:
        # "no partition of relation found for row": another process's retention dropped a day this
        # process remembered as made. Forget what it knows and make them again, once.
        partitions.forget()
        return _store(conn, partitions, log_group, log_stream, old, new, days, events())
    except UNSTORABLE_TEXT_ERRORS:
        # Text PostgreSQL refuses (a NUL or a lone surrogate, often from a JSON escape such as
        # "\\u0000" in a field): such a page would fail on every pass and stop its stream. Looking
        # for them in every line up front would tax every page; replacing them on the rare failure
        # costs nothing otherwise.
        return _store(conn, partitions, log_group, log_stream, old, new, days, events(), make_storable=True)


#: What psycopg raises for a str PostgreSQL cannot hold: encoding it (a lone surrogate) or storing it (NUL).
UNSTORABLE_TEXT_ERRORS = (
    UnicodeEncodeError,
    psycopg.errors.CharacterNotInRepertoire,
    psycopg.errors.UntranslatableCharacter,
)


def _store(
    conn: psycopg.Connection,
    partitions: Partitions,
    log_group: str,
    log_stream: str,
    old: Position | None,
    new: Position,
    days: set[date],
    events: Iterable[ParsedEvent],
    *,
    make_storable: bool = False,
) -> PageCounts | None:
    if days:
        partitions.ensure_days(conn, "log_lines", days)
        partitions.ensure_days(conn, "invocations", days)
    invocations: list[InvocationRow] = []
    problems: list[CollectorError] = []
    lines = 0

    def rows() -> Iterator[LogRow]:
        nonlocal lines
        for event in events:
            row = event.row
            lines += 1
            if make_storable and any(isinstance(v, str) and UNSTORABLE.search(v) for v in row):
                row = LogRow._make(storable(v) if isinstance(v, str) else v for v in row)
                problems.append(
                    CollectorError(
                        "text_replaced",
                        f"{log_group} {log_stream} #{row.seq}",
                        "characters PostgreSQL cannot store (NUL, lone surrogates) replaced by U+FFFD",
                    )
                )
            if event.invocation is not None:
                invocations.append(event.invocation)
            if event.problem is not None:
                source = f"{log_group} {log_stream} #{row.seq}"
                problems.append(CollectorError(event.problem.kind, source, event.problem.detail, row.raw))
            yield row

    try:
        with conn.transaction(), conn.cursor() as cur:
            if not _move_position(cur, log_group, log_stream, old, new):
                raise _Lost  # rolls the transaction back
            if days:
                copy_rows(cur, rows(), invocations)
                write_errors(conn, [_storable_error(p) for p in problems] if make_storable else problems)
    except _Lost:
        return None
    return PageCounts(lines, len(invocations), sum(1 for p in problems if p.kind != "text_replaced"))


def _storable_error(error: CollectorError) -> CollectorError:
    return CollectorError(
        error.kind, error.source, storable(error.detail), storable(error.sample) if error.sample else None
    )


class _Lost(Exception):
    """Raised inside the transaction to roll it back when the compare-and-set failed."""


def _move_position(
    cur: psycopg.Cursor, log_group: str, log_stream: str, old: Position | None, new: Position
) -> bool:
    if old is None:
        cur.execute(
            "INSERT INTO log_positions (log_group, log_stream, token, next_seq, last_ingestion_ms)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (log_group, log_stream) DO NOTHING RETURNING 1",
            (log_group, log_stream, new.token, new.next_seq, new.last_ingestion_ms),
        )
    else:
        cur.execute(
            "UPDATE log_positions SET token = %s, next_seq = %s, last_ingestion_ms = %s, updated_at = now()"
            " WHERE log_group = %s AND log_stream = %s AND token IS NOT DISTINCT FROM %s AND next_seq = %s"
            " RETURNING 1",
            (new.token, new.next_seq, new.last_ingestion_ms, log_group, log_stream, old.token, old.next_seq),
        )
    return cur.fetchone() is not None
