"""Drift: the latest reconciliation per system, open findings with both values side by side, the trend.

Repair runs the reconciler's own command: ``sagawatch reconcile --system S`` is the dry run (its
report is the plan), ``sagawatch reconcile --system S --apply`` executes it; both ask first and are
written to the dashboard's audit log. Values are masked by the reconciler and again on display.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import psycopg
import streamlit as st

from dashboard import app
from dashboard.actions import ActionSpec, action_button
from dashboard.queries.drift import (
    KINDS,
    SystemRun,
    drift_set_up,
    latest_runs,
    open_counts,
    open_findings,
    trend,
)

Conn = psycopg.Connection[dict[str, Any]]
ALL = "(all)"


def _runs_table(runs: list[SystemRun]) -> None:
    st.subheader("Latest run per system")
    st.dataframe(
        [
            {
                "system": r.system,
                "run": r.run_id,
                "mode": r.mode,
                "status": r.status,
                "started (UTC)": f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                "took (s)": round(r.duration_s, 1) if r.duration_s is not None else None,
                "findings": r.total,
                "errors": "; ".join(r.errors),
            }
            for r in runs
        ],
        hide_index=True,
        width="stretch",
    )


def _by_kind(conn: Conn) -> None:
    counts = open_counts(conn)
    systems = sorted({system for system, _ in counts})
    st.subheader("Open findings by kind")
    if not systems:
        st.success("No open finding: every system matched Aurora at its latest run.")
        return
    st.dataframe(
        [{"system": s, **{k: counts.get((s, k), 0) for k in KINDS}} for s in systems],
        hide_index=True,
        width="stretch",
    )


def _findings(conn: Conn, system: str | None, kind: str | None) -> None:
    rows = open_findings(conn, system, kind)
    if not rows:
        st.caption("No open finding matches these filters.")
        return
    st.dataframe(
        [
            {
                "kind": f.kind,
                "system": f.system,
                "key": f.key,
                "field": f.field or "",
                "Aurora value": f.aurora_value,
                "SaaS value": f.saas_value,
                "detail": f.detail,
                "last seen (UTC)": f"{f.last_seen:%Y-%m-%d %H:%M:%S}",
            }
            for f in rows
        ],
        hide_index=True,
        width="stretch",
    )


def _trend(conn: Conn) -> None:
    points = trend(conn)
    if len({p.run_id for p in points}) < 2:
        st.caption("The trend over runs appears after the second run.")
        return
    data = alt.Data(
        values=[
            {"run started": p.started_at.isoformat(), "system": p.system, "findings": p.findings}
            for p in points
        ]
    )
    chart = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("run started:T", title="run started (UTC)"),
            y=alt.Y("findings:Q", title="findings at the run"),
            color=alt.Color("system:N"),
            tooltip=["run started:T", "system:N", "findings:Q"],
        )
        .properties(title="Findings over runs")
    )
    st.altair_chart(chart, width="stretch")


def _repair(systems: list[str]) -> None:
    st.subheader("Repair")
    system = st.selectbox("System to repair", systems, key="drift_repair_system")
    dry, apply = st.columns(2)
    with dry:
        action_button(
            f"reconcile_plan_{system}",
            "Dry run (show the plan)",
            ActionSpec(action="reconcile dry run", target=system, args=("reconcile", "--system", system)),
            confirm=f"Reconcile {system} without changing anything and print the repair plan",
        )
    with apply:
        action_button(
            f"reconcile_apply_{system}",
            "Apply repairs",
            ActionSpec(
                action="reconcile apply", target=system, args=("reconcile", "--system", system, "--apply")
            ),
            confirm=f"Reconcile {system} and write the repairs to it (creates and updates in the SaaS)",
        )


def _body(conn: Conn, system: str | None, kind: str | None) -> None:
    _by_kind(conn)
    st.subheader("Findings")
    _findings(conn, system, kind)
    _trend(conn)


def render() -> None:
    st.title("Drift")
    runs = app.with_store(lambda conn: latest_runs(conn) if drift_set_up(conn) else [])
    if runs is None:
        return
    if not runs:
        st.info(
            "No reconciliation has run yet. Each system's latest run, its open findings (missing, orphan, "
            "mismatched, duplicate, stale) with the Aurora and SaaS values side by side, and the trend "
            "over runs appear here once `sagawatch reconcile` has run (`sagawatch up` schedules it)."
        )
        return
    _runs_table(runs)
    systems = [r.system for r in runs]
    left, right = st.columns(2)
    system_key = app.kept("drift_system", st.query_params.get("system", ALL))
    if st.session_state[system_key] not in [ALL, *systems]:
        st.session_state[system_key] = ALL
    system = left.selectbox("System", [ALL, *systems], key=system_key)
    app.keep("drift_system")
    kind_key = app.kept("drift_kind", st.query_params.get("kind", ALL))
    if st.session_state[kind_key] not in [ALL, *KINDS]:
        st.session_state[kind_key] = ALL
    kind = right.selectbox("Kind", [ALL, *KINDS], key=kind_key)
    app.keep("drift_kind")

    @st.fragment(run_every=app.refresh_every())
    def body() -> None:
        app.with_store(
            lambda conn: _body(conn, None if system == ALL else system, None if kind == ALL else kind)
        )

    body()
    _repair(systems)
