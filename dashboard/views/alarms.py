"""Alarms: the state of each alarm, its transitions with their reasons, and the metric it watches.

Read-only: alarms change state through their evaluator (CloudWatch on AWS, the local evaluator on
the embedded stack), never from here. The alarm chosen is kept across refreshes and page visits.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import psycopg
import streamlit as st

from dashboard import app
from dashboard.queries.alarms import AlarmNow, alarms_now, alarms_set_up, metric_series, transitions

Conn = psycopg.Connection[dict[str, Any]]
STATE_ICON = {"ALARM": "🔴", "INSUFFICIENT_DATA": "⚪", "OK": "🟢"}


def state_label(state: str) -> str:
    """A state as read at a glance: the icon, then the word (colour is never the only signal)."""
    return f"{STATE_ICON.get(state, '')} {state}".strip()


def _states_table(alarms: list[AlarmNow]) -> None:
    in_alarm = sum(1 for a in alarms if a.state == "ALARM")
    st.metric("In ALARM", in_alarm, help=f"of {len(alarms)} alarm(s)")
    st.dataframe(
        [
            {
                "alarm": a.alarm_name,
                "state": state_label(a.state),
                "since": f"{a.changed_at:%Y-%m-%d %H:%M:%S}",
                "metric": f"{a.namespace}/{a.metric_name}" if a.metric_name else "",
                "reason": a.reason,
            }
            for a in alarms
        ],
        hide_index=True,
        width="stretch",
    )


def _history(conn: Conn, alarm: AlarmNow) -> None:
    st.subheader(f"History of {alarm.alarm_name}")
    if alarm.description:
        st.caption(alarm.description)
    rows = transitions(conn, alarm.alarm_name)
    if not rows:
        st.caption("No transition recorded yet: the alarm has kept its first state.")
    else:
        st.dataframe(
            [
                {
                    "when": f"{t.changed_at:%Y-%m-%d %H:%M:%S}",
                    "from": t.old_state or "",
                    "to": state_label(t.new_state),
                    "reason": t.reason,
                }
                for t in rows
            ],
            hide_index=True,
            width="stretch",
        )
    _metric(conn, alarm)


def _metric(conn: Conn, alarm: AlarmNow) -> None:
    if not alarm.namespace or not alarm.metric_name:
        st.caption("This alarm names no single metric (a composite or metric-math alarm).")
        return
    points = metric_series(conn, alarm.namespace, alarm.metric_name)
    title = f"{alarm.namespace} / {alarm.metric_name}"
    if not points:
        st.caption(f"No datapoint of {title} collected in the last hours.")
        return
    data = alt.Data(
        values=[
            {"time": p.ts.isoformat(), "sum": p.sum, "average": p.average, "maximum": p.maximum}
            for p in points
        ]
    )
    chart = (
        alt.Chart(data)
        .transform_fold(["sum", "average", "maximum"], as_=["statistic", "value"])
        .mark_line(point=True)
        .encode(
            x=alt.X("time:T", title=None),
            y=alt.Y("value:Q", title=alarm.metric_name),
            color=alt.Color("statistic:N"),
            tooltip=["time:T", "statistic:N", "value:Q"],
        )
        .properties(title=title)
    )
    st.altair_chart(chart, width="stretch")


def _body(conn: Conn, chosen: str | None) -> None:
    alarms = alarms_now(conn)
    _states_table(alarms)
    alarm = next((a for a in alarms if a.alarm_name == chosen), None)
    if alarm is not None:
        _history(conn, alarm)


def render() -> None:
    st.title("Alarms")
    alarms = app.with_store(lambda conn: alarms_now(conn) if alarms_set_up(conn) else [])
    if alarms is None:
        return
    if not alarms:
        st.info(
            "No alarm has been evaluated yet. Each alarm appears here with its state (OK, ALARM, "
            "INSUFFICIENT_DATA), its history of transitions with reasons and the metric it watches, once "
            "the alarm evaluator has run (`sagawatch up` runs it; `sagawatch alarms` manages them)."
        )
        return
    names = [a.alarm_name for a in alarms]
    key = app.kept("alarm", st.query_params.get("alarm", names[0]))
    if st.session_state[key] not in names:  # an alarm that has gone since it was chosen
        st.session_state[key] = names[0]
    chosen = st.selectbox("Alarm", names, key=key)
    app.keep("alarm")

    @st.fragment(run_every=app.refresh_every())
    def body() -> None:
        app.with_store(lambda conn: _body(conn, chosen))

    body()
