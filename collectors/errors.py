"""Collector errors: what could not be collected or parsed, kept in ``collector_errors``.

Bad input never stops a pass: the part that met it records one of these and goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from sagawatch.redact import redact

MAX_SAMPLE_CHARS = 2000


@dataclass(frozen=True)
class CollectorError:
    kind: str  # malformed_json | log_contract | emf_shape | logs_unreachable | queue_unreachable | ...
    source: str  # what it was about: a log group/stream, a queue URL, a state machine ARN
    detail: str
    sample: str | None = None


def unreachable(kind: str, source: str, exc: BaseException) -> CollectorError:
    """An error for an AWS/SQL call that failed, with secrets taken out of its message."""
    return CollectorError(kind, source, redact(f"{type(exc).__name__}: {exc}"))


def write_errors(conn: psycopg.Connection, errors: Sequence[CollectorError]) -> None:
    """Insert the errors (inside the caller's transaction, if it has one)."""
    if not errors:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO collector_errors (kind, source, detail, sample) VALUES (%s, %s, %s, %s)",
            [(e.kind, e.source, e.detail, e.sample[:MAX_SAMPLE_CHARS] if e.sample else None) for e in errors],
        )
