"""Canary: the baseline version against the canary side by side, the judge's verdict, promote or roll back.

The verdict is ``alarms.canary.judge`` (Kayenta-style: Mann-Whitney U per metric at 98 %, effect-size
tolerance, weighted score) over the audit store's invocations; "not enough data" is said plainly.
Promote and roll back run ``sagawatch canary promote|rollback FUNCTION`` -- the CLI's
``CanaryControl`` -- after a confirmation, and are written to the dashboard's audit log.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import psycopg
import streamlit as st

from alarms.canary.judge import Verdict
from dashboard import app
from dashboard.actions import ActionSpec, action_button
from dashboard.queries.canary import (
    CanaryFunction,
    CanaryVerdict,
    VersionPoint,
    canary_functions,
    verdict,
    verdict_text,
    version_series,
)

Conn = psycopg.Connection[dict[str, Any]]
ALIAS = "live"


def _charts(points: list[VersionPoint], pick: CanaryFunction) -> None:
    role = {pick.baseline: f"v{pick.baseline} (baseline)", pick.canary: f"v{pick.canary} (canary)"}
    data = alt.Data(
        values=[
            {
                "minute": p.minute.isoformat(),
                "version": role[p.version],
                "invocations": p.invocations,
                "error rate": p.error_rate,
                "p50 (ms)": p.p50_ms,
                "p99 (ms)": p.p99_ms,
                "compensation rate": p.compensation_rate,
            }
            for p in points
        ]
    )
    base = alt.Chart(data).encode(
        x=alt.X("minute:T", title="minute (UTC)"), color=alt.Color("version:N", title="version")
    )
    columns = st.columns(2)
    for i, (field, title) in enumerate(
        (
            ("invocations", "Invocations per minute"),
            ("error rate", "Error rate"),
            ("p50 (ms)", "p50 duration (ms)"),
            ("p99 (ms)", "p99 duration (ms)"),
            ("compensation rate", "Saga compensation rate"),
        )
    ):
        chart = base.mark_line(point=True).encode(
            y=alt.Y(f"{field}:Q", title=field), tooltip=["minute:T", "version:N", f"{field}:Q"]
        )
        columns[i % 2].altair_chart(chart.properties(title=title), width="stretch")


def _side_by_side(points: list[VersionPoint], judged: CanaryVerdict) -> None:
    duration = next((m for m in judged.result.metrics if m.name == "duration_ms"), None)
    rows = []
    for version, role in ((judged.baseline, "baseline"), (judged.canary, "canary")):
        mine = [p for p in points if p.version == version]
        invocations = sum(p.invocations for p in mine)
        errors = sum(p.errors or 0 for p in mine)
        side = None if duration is None else getattr(duration, role)
        rows.append(
            {
                "version": version,
                "role": role,
                "invocations": invocations,
                "errors": errors,
                "error rate": f"{errors / invocations:.1%}" if invocations else "-",
                "median duration (ms)": round(side.median, 1) if side and side.median is not None else None,
            }
        )
    st.dataframe(rows, hide_index=True, width="stretch")


def _verdict(judged: CanaryVerdict) -> None:
    result = judged.result
    text = f"Verdict for v{judged.canary} against v{judged.baseline}: {verdict_text(judged)}"
    show = {
        Verdict.PASS: st.success,
        Verdict.MARGINAL: st.warning,
        Verdict.FAIL: st.error,
        Verdict.NOT_ENOUGH_DATA: st.info,
    }[result.verdict]
    show(text)
    for reason in result.reasons:
        st.caption(reason)
    st.dataframe(
        [
            {
                "metric": m.name,
                "result": m.classification.value,
                "baseline mean": m.baseline.mean,
                "canary mean": m.canary.mean,
                "canary / baseline": m.effect_size,
                "p-value": m.p_value,
                "why": m.reason,
            }
            for m in result.metrics
        ],
        hide_index=True,
        width="stretch",
    )


def _controls(pick: CanaryFunction) -> None:
    st.subheader("Control")
    promote, rollback = st.columns(2)
    with promote:
        action_button(
            f"canary_promote_{pick.function}",
            f"Promote v{pick.canary}",
            ActionSpec(
                action="canary promote", target=pick.function, args=("canary", "promote", pick.function)
            ),
            confirm=f"Send all of {pick.function}:{ALIAS}'s traffic to its canary version",
        )
    with rollback:
        action_button(
            f"canary_rollback_{pick.function}",
            f"Roll back v{pick.canary}",
            ActionSpec(
                action="canary rollback", target=pick.function, args=("canary", "rollback", pick.function)
            ),
            confirm=f"Take the canary out of {pick.function}:{ALIAS}: weight 0, all traffic to the primary",
        )


def _body(conn: Conn, pick: CanaryFunction) -> None:
    points = version_series(conn, pick)
    judged = verdict(conn, pick, points=points)
    _verdict(judged)
    _side_by_side(points, judged)
    _charts(points, pick)


def render() -> None:
    st.title("Canary")
    picks = app.with_store(canary_functions)
    if picks is None:
        return
    if not picks:
        st.info(
            "No canary is running: no function had two published versions invoked in the last hour. When a "
            "weighted alias sends traffic to a new version, its invocations, error rate, p50/p99 duration "
            "and saga compensation rate appear here beside the current version's, with the judge's verdict "
            "(PASS, MARGINAL, FAIL or not enough data) and buttons to promote or roll back."
        )
        return
    names = [p.function for p in picks]
    key = app.kept("canary_function", st.query_params.get("function", names[0]))
    if st.session_state[key] not in names:
        st.session_state[key] = names[0]
    chosen = st.selectbox("Function", names, key=key)
    app.keep("canary_function")
    pick = next(p for p in picks if p.function == chosen)

    @st.fragment(run_every=app.refresh_every())
    def body() -> None:
        app.with_store(lambda conn: _body(conn, pick))

    body()
    _controls(pick)
