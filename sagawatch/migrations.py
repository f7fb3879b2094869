"""Versioned, re-runnable SQL migrations for the app's Aurora and the audit store.

Each owning package keeps numbered files (``0001_sagas.sql``) in a folder of
its own; applying them twice is a no-op. A transaction-scoped advisory lock
makes two processes starting at once (``sagawatch up`` and a test, say) take
turns instead of racing to create the same tables.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from importlib import resources

import psycopg

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def discover(package: str) -> list[Migration]:
    """The migrations shipped in ``package`` (a dotted name), in version order."""
    found: list[Migration] = []
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"{package}: two migrations share a version: {versions}")
    return found


def apply_migrations(conninfo: str, package: str, *, ledger: str = "schema_migrations") -> list[str]:
    """Apply what has not been applied yet; returns the names applied by this call."""
    lock_key = zlib.crc32(f"sagawatch:{package}".encode())
    applied_now: list[str] = []
    with psycopg.connect(conninfo) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {ledger} ("
            " package text NOT NULL, version int NOT NULL, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (package, version))"
        )
        rows = conn.execute(f"SELECT version FROM {ledger} WHERE package = %s", (package,)).fetchall()
        done = {r[0] for r in rows}
        for migration in discover(package):
            if migration.version in done:
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                f"INSERT INTO {ledger} (package, version, name) VALUES (%s, %s, %s)",
                (package, migration.version, migration.name),
            )
            applied_now.append(migration.name)
    return applied_now
