"""Writing one page of a log stream: rows, REPORT rows, problems and the new position in ONE transaction.

The position is advanced with a compare-and-set on the token it was read from. So:
- a pass that dies midway (process killed, exception) rolls its page back with its position, and the
  next pass reads that page again: no gap, no duplicate;
- two collectors racing on one stream cannot both store a page: the second one's compare fails, it
  rolls back and leaves the stream to the first.
The primary key (group, stream, seq, ts) stands behind both as a last guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def copy_rows(cur: psycopg.Cursor, rows: Sequence[LogRow], invocations: Sequence[InvocationRow]) -> None:
    """COPY the page's rows (the fast path: one round trip, no per-row statement)."""
    if rows:
        with cur.copy(_COPY_LOGS) as copy:
            copy.set_types(LOG_TYPES)
            for row in rows:
                copy.write_row(row)
    if invocations:
        with cur.copy(_COPY_INVOCATIONS) as copy:
            copy.set_types(INVOCATION_TYPES)
            for invocation in invocations:
                copy.write_row(invocation)


def commit_page(
    conn: psycopg.Connection,
    partitions: Partitions,
    log_group: str,
    log_stream: str,
    old: Position | None,
    new: Position,
    events: Sequence[ParsedEvent],
) -> bool:
    """Store one page and move the position from ``old`` to ``new``; False if another writer moved it.

    ``conn`` must be in autocommit mode: the page is its own transaction.
    """
    rows = [e.row for e in events]
    invocations = [e.invocation for e in events if e.invocation is not None]
    problems = [
        CollectorError(e.problem.kind, f"{log_group} {log_stream} #{e.row.seq}", e.problem.detail, e.row.raw)
        for e in events
        if e.problem is not None
    ]
    try:
        return _store(conn, partitions, log_group, log_stream, old, new, rows, invocations, problems)
    except psycopg.errors.CheckViolation:
        # "no partition of relation found for row": another process's retention dropped a day this
        # process remembered as made. Forget what it knows and make them again, once.
        partitions.forget()
        return _store(conn, partitions, log_group, log_stream, old, new, rows, invocations, problems)
    except UNSTORABLE_TEXT_ERRORS:
        # Text PostgreSQL refuses (a NUL or a lone surrogate, often from a JSON escape such as
        # "\u0000" in a field): such a page would fail on every pass and stop its stream. Looking
        # for them in every line up front would tax every page; replacing them on the rare failure
        # costs nothing otherwise.
        rows, replaced = _storable_rows(rows)
        problems = [_storable_error(p) for p in problems] + [
            CollectorError(
                "text_replaced",
                f"{log_group} {log_stream} #{row.seq}",
                "characters PostgreSQL cannot store (NUL, lone surrogates) replaced by U+FFFD",
            )
            for row in replaced
        ]
        return _store(conn, partitions, log_group, log_stream, old, new, rows, invocations, problems)


#: What psycopg raises for a str PostgreSQL cannot hold: encoding it (a lone surrogate) or storing it (NUL).
UNSTORABLE_TEXT_ERRORS = (
    UnicodeEncodeError,
    psycopg.errors.CharacterNotInRepertoire,
    psycopg.errors.UntranslatableCharacter,
)


def _storable_rows(rows: Sequence[LogRow]) -> tuple[list[LogRow], list[LogRow]]:
    """(every row, text made storable; the rows that needed it)."""
    out: list[LogRow] = []
    replaced: list[LogRow] = []
    for row in rows:
        if any(isinstance(v, str) and UNSTORABLE.search(v) for v in row):
            row = LogRow._make(storable(v) if isinstance(v, str) else v for v in row)
            replaced.append(row)
        out.append(row)
    return out, replaced


def _storable_error(error: CollectorError) -> CollectorError:
    return CollectorError(
        error.kind, error.source, storable(error.detail), storable(error.sample) if error.sample else None
    )


def _store(
    conn: psycopg.Connection,
    partitions: Partitions,
    log_group: str,
    log_stream: str,
    old: Position | None,
    new: Position,
    rows: Sequence[LogRow],
    invocations: Sequence[InvocationRow],
    problems: Sequence[CollectorError],
) -> bool:
    if rows:
        partitions.ensure_days(conn, "log_lines", {day_of(r.ts) for r in rows})
    if invocations:
        partitions.ensure_days(conn, "invocations", {day_of(i.ts) for i in invocations})
    try:
        with conn.transaction(), conn.cursor() as cur:
            if not _move_position(cur, log_group, log_stream, old, new):
                raise _Lost  # rolls the transaction back
            copy_rows(cur, rows, invocations)
            write_errors(conn, problems)
    except _Lost:
        return False
    return True


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
