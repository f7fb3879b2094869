"""Fixtures for the dashboard's AppTest tests: a migrated audit store on real PostgreSQL, and the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row
from streamlit.testing.v1 import AppTest

from sagawatch.migrations import apply_migrations

AUDIT_PACKAGES = ("collectors.schema", "reconciler.schema", "alarms.schema", "dashboard.schema")
#: A page's first run imports Streamlit, pandas and Altair: generous, as CI machines are slow.
RUN_TIMEOUT_S = 60


@pytest.fixture
def audit_url(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh audit store with every audit package's tables, which the dashboard is pointed at."""
    for package in AUDIT_PACKAGES:
        apply_migrations(fresh_db_url, package)
    monkeypatch.setenv("SAGAWATCH_AUDIT_URL", fresh_db_url)
    monkeypatch.setenv("SAGAWATCH_DASHBOARD_REFRESH_S", "0")
    monkeypatch.setenv("SAGAWATCH_OPERATOR", "test-operator")
    return fresh_db_url


@pytest.fixture
def aurora_here(audit_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Aurora's tables in the audit store's database (no name is shared), found by the CLI through
    ``DATABASE_URL`` (no stack: ``SAGAWATCH_HOME`` is empty), as ``sagawatch saga`` finds Aurora."""
    apply_migrations(audit_url, "instrumented_app.schema")
    monkeypatch.setenv("DATABASE_URL", audit_url)
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path / "no-stack"))
    return audit_url


@pytest.fixture
def audit_conn(audit_url: str) -> Iterator[psycopg.Connection[dict[str, object]]]:
    with psycopg.connect(audit_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


def app_on(page: str, **query_params: str) -> AppTest:
    """The whole app (navigation, sidebar) starting on ``page``, run once with ``query_params``."""
    at = AppTest.from_string(
        f"from dashboard import app\napp.main(start={page!r})\n", default_timeout=RUN_TIMEOUT_S
    )
    at.query_params.update(query_params)
    return at.run()


@pytest.fixture
def open_page(audit_url: str) -> Callable[..., AppTest]:
    """``open_page("sagas", saga_id="s-1")``: the app on that page, against ``audit_url``."""
    return app_on


def page_text(at: AppTest) -> str:
    """Everything a person reads on the page: titles, text, captions, metrics, tables, alerts."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "text",
        "info",
        "warning",
        "error",
        "success",
        "code",
    ):
        parts.extend(str(element.value) for element in getattr(at, kind))
    parts.extend(f"{m.label} {m.value}" for m in at.metric)
    parts.extend(df.value.to_string() for df in at.dataframe)
    parts.extend(str(getattr(e, "proto", "")) for e in at.get("page_link"))
    return "\n".join(parts)
