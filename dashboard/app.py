"""The dashboard's entry point (``streamlit run dashboard/app.py``): navigation, refresh, page registry.

Pages are small modules in ``dashboard/views/`` with a ``render()`` function; ``PAGES`` maps each
page's URL path to its title, icon and function. To add a page, add one line to ``PAGES``. The folder
is not called ``pages/``: Streamlit would take that for its legacy multipage folder, list its files
before the first run and serve them at their own URLs, so a deep link could open a blank page. Pages link
to each other through ``page(url_path)`` (Streamlit identifies a page by its URL path), passing what
to show as query parameters, so a link can be bookmarked and shared.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import streamlit as st

from dashboard.db import AuditStoreUnavailable, connect
from sagawatch.redact import redact

#: url_path -> (title, material icon, "module:function"). Order is the sidebar's order.
PAGES: dict[str, tuple[str, str, str]] = {
    "overview": ("Overview", ":material/monitor_heart:", "dashboard.views.overview:render"),
    "sagas": ("Sagas", ":material/account_tree:", "dashboard.views.sagas:render"),
    "queues": ("Queues and DLQs", ":material/inbox:", "dashboard.views.queues:render"),
    "trace": ("Trace inspector", ":material/timeline:", "dashboard.views.trace:render"),
    "canary": ("Canary", ":material/compare_arrows:", "dashboard.views.canary:render"),
    "drift": ("Drift", ":material/difference:", "dashboard.views.drift:render"),
    "alarms": ("Alarms", ":material/notifications_active:", "dashboard.views.alarms:render"),
}

T = TypeVar("T")

DEFAULT_PAGE = "overview"
REFRESH_ENV = "SAGAWATCH_DASHBOARD_REFRESH_S"
DEFAULT_REFRESH_S = 5.0
REFRESH_KEY = "refresh_s"
REFRESH_CHOICES = (0.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def _load(target: str) -> Callable[[], None]:
    module_name, attr = target.split(":")
    function: Callable[[], None] = getattr(importlib.import_module(module_name), attr)
    return function


def page(url_path: str, *, default: bool = False) -> st.Page:
    """The registered page at ``url_path``, for ``st.page_link``/``st.switch_page``; KeyError if unknown."""
    title, icon, target = PAGES[url_path]
    return st.Page(_load(target), title=title, icon=icon, url_path=url_path, default=default)


def has_page(url_path: str) -> bool:
    return url_path in PAGES


def default_refresh_s() -> float:
    """``SAGAWATCH_DASHBOARD_REFRESH_S`` (0 turns auto-refresh off), else 5 s."""
    raw = os.environ.get(REFRESH_ENV, "").strip()
    if not raw:
        return DEFAULT_REFRESH_S
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_REFRESH_S
    return value if value >= 0 else DEFAULT_REFRESH_S


def refresh_every() -> float | None:
    """The auto-refresh period chosen in the sidebar, for ``st.fragment(run_every=...)``; None = off."""
    value = float(st.session_state.get(REFRESH_KEY, default_refresh_s()))
    return value if value > 0 else None


def with_store(body: Callable[[psycopg.Connection[dict[str, Any]]], T]) -> T | None:
    """``body`` run with an audit-store connection; a missing store or table is explained (None)."""
    try:
        with connect() as conn:
            return body(conn)
    except AuditStoreUnavailable as exc:
        st.error(str(exc))
    except psycopg.errors.UndefinedTable as exc:
        st.info(
            "The audit store is not set up yet (a table is missing: "
            f"{redact(str(exc)).splitlines()[0]}). `sagawatch up` applies its migrations; "
            "this page fills in once the collectors have run."
        )
    return None


def kept(key: str, default: Any) -> str:
    """A widget key whose value outlives the widget (page switches drop widget state): returns the key."""
    widget_key = f"w_{key}"
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state.get(f"keep_{key}", default)
    return widget_key


def keep(key: str) -> Any:
    value = st.session_state.get(f"w_{key}")
    st.session_state[f"keep_{key}"] = value
    return value


def _sidebar() -> None:
    choices = sorted({*REFRESH_CHOICES, default_refresh_s()})
    if REFRESH_KEY not in st.session_state:
        st.session_state[REFRESH_KEY] = default_refresh_s()
    st.sidebar.selectbox(
        "Auto-refresh",
        choices,
        key=REFRESH_KEY,
        format_func=lambda s: "off" if s == 0 else f"every {s:g} s",
    )


def main(start: str = DEFAULT_PAGE) -> None:
    """Lay out the app; ``start`` is the page at ``/`` (tests start on the page they test)."""
    st.set_page_config(page_title="sagawatch", page_icon=":material/monitor_heart:", layout="wide")
    navigation = st.navigation([page(path, default=path == start) for path in PAGES])
    _sidebar()
    navigation.run()


if __name__ == "__main__":
    main()
