"""Live parts for reconciler tests: the SaaS simulators (in-process), Aurora and audit databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from psycopg import sql

from instrumented_app.saas_sim.server import SaasSimulators
from reconciler.wiring import SCHEMA_PACKAGE
from sagawatch.migrations import apply_migrations


@pytest.fixture(scope="module")
def simulators() -> Iterator[SaasSimulators]:
    sims = SaasSimulators()
    sims.start()
    yield sims
    sims.stop()


@pytest.fixture(scope="module")
def admin() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as client:
        yield client


@pytest.fixture
def saas_urls(simulators: SaasSimulators, admin: httpx.Client) -> dict[str, str]:
    """Base URLs of the simulators, each reset to empty storage, no faults, real time."""
    for url in simulators.urls.values():
        admin.post(f"{url}/_admin/reset").raise_for_status()
    return simulators.urls


def _database(admin_url: str, name: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(admin_url, dbname=name)


@pytest.fixture
def aurora_url(fresh_db_url: str) -> str:
    """A fresh database with the app's schema (customer, saga)."""
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    return fresh_db_url


@pytest.fixture
def audit_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh audit-store database with the reconciler's tables."""
    name = f"audit_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _database(pg_admin_url, name)
    apply_migrations(url, SCHEMA_PACKAGE)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
