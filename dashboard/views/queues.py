"""Queues and DLQs: depth and oldest-message age per queue over time, a peek into each DLQ, redrive.

Redrive runs ``sagawatch jobs redrive --queue SOURCE --max N`` (the CLI's code: a message move on the
local stack, ``StartMessageMoveTask`` on AWS), after a confirmation naming the count and both queues.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import psycopg
import streamlit as st

from dashboard import app
from dashboard.actions import ActionSpec, action_button
from dashboard.queries.overview import format_age
from dashboard.queries.queues import QueueNow, dlq_messages, queue_history, queues_now, source_queues

Conn = psycopg.Connection[dict[str, Any]]
#: Messages offered as links to their transaction under the peek table.
LINKED_MESSAGES = 20


def _history_chart(conn: Conn, queues: list[QueueNow]) -> None:
    names = [q.queue_name for q in queues]
    rows = queue_history(conn, names)
    if not rows:
        st.caption("No samples in the last hour yet.")
        return
    data = alt.Data(
        values=[
            {
                "time": r["sampled_at"].isoformat(),
                "queue": r["queue_name"],
                "depth": r["depth"],
                "oldest age (s)": r["oldest_age_s"],
            }
            for r in rows
        ]
    )
    base = alt.Chart(data).encode(x=alt.X("time:T", title=None), color=alt.Color("queue:N"))
    depth = base.mark_line(point=True).encode(
        y=alt.Y("depth:Q", title="messages"), tooltip=["queue:N", "depth:Q"]
    )
    age = base.mark_line(point=True).encode(
        y=alt.Y("oldest age (s):Q", title="oldest message age (s)"), tooltip=["queue:N", "oldest age (s):Q"]
    )
    left, right = st.columns(2)
    left.altair_chart(depth.properties(title="Depth"), width="stretch")
    right.altair_chart(age.properties(title="Oldest message age"), width="stretch")


def _queues_table(queues: list[QueueNow]) -> None:
    st.dataframe(
        [
            {
                "queue": q.queue_name,
                "DLQ": "yes" if q.is_dlq else "",
                "depth": q.depth,
                "visible": q.visible,
                "in flight": q.in_flight,
                "oldest": format_age(q.oldest_age_s) if q.depth else "-",
                "dead letters go to": q.dlq_name or "",
                "sampled": f"{q.sampled_at:%H:%M:%S}",
            }
            for q in queues
        ],
        hide_index=True,
        width="stretch",
    )


def _peek(conn: Conn, dlq: str) -> None:
    messages = dlq_messages(conn, dlq)
    st.markdown(f"#### Messages in {dlq}")
    if not messages:
        st.caption("No message seen in this DLQ (the collectors peek without consuming).")
        return
    st.dataframe(
        [
            {
                "message": m.message_id,
                "correlation id": m.correlation_id or "",
                "receive count": m.receive_count,
                "sent": f"{m.sent_at:%Y-%m-%d %H:%M:%S}" if m.sent_at else "",
                "body (masked)": m.body,
                "attributes": ", ".join(f"{k}={v}" for k, v in m.attributes.items()),
            }
            for m in messages
        ],
        hide_index=True,
        width="stretch",
    )
    for message in [m for m in messages if m.correlation_id][:LINKED_MESSAGES]:
        st.page_link(
            app.page("trace"),
            label=f"Trace of {message.correlation_id} (message {message.message_id[:8]})",
            query_params={"correlation_id": message.correlation_id or ""},
            icon=":material/timeline:",
        )


def _body(conn: Conn, dlq: str | None) -> None:
    queues = queues_now(conn)
    if not queues:
        st.info(
            "No queue has been sampled yet. Every SQS queue and DLQ appears here with its depth and oldest "
            "message age once the collectors have run (`sagawatch collect`)."
        )
        return
    _queues_table(queues)
    _history_chart(conn, queues)
    if dlq:
        _peek(conn, dlq)


def _redrive(conn: Conn, dlq: str, depth: int) -> None:
    sources = source_queues(conn, dlq)
    if not sources:
        st.caption(f"No queue sends its dead letters to {dlq}: nothing to redrive into.")
        return
    st.markdown("#### Redrive")
    cols = st.columns([2, 1])
    source = cols[0].selectbox("Back into", sources, key=f"redrive_source_{dlq}")
    count = int(
        cols[1].number_input(
            "How many", min_value=1, max_value=max(depth, 1), value=max(depth, 1), key=f"redrive_count_{dlq}"
        )
    )
    action_button(
        f"redrive_{dlq}",
        "Redrive",
        ActionSpec(
            action="jobs redrive",
            target=dlq,
            args=("jobs", "redrive", "--queue", source, "--max", str(count)),
        ),
        confirm=f"Move up to {count} message(s) from {dlq} back to {source}",
        disabled=depth == 0,
        help_text="The DLQ is empty." if depth == 0 else None,
    )


def render() -> None:
    st.title("Queues and DLQs")
    queues = app.with_store(queues_now)
    if queues is None:
        return
    dlqs = [q for q in queues if q.is_dlq]
    dlq: str | None = None
    if dlqs:
        names = [q.queue_name for q in dlqs]
        key = app.kept("dlq", names[0])
        if st.session_state[key] not in names:  # a queue that has gone since it was chosen
            st.session_state[key] = names[0]
        dlq = st.selectbox(
            "Dead-letter queue",
            names,
            key=key,
            format_func=lambda n: f"{n} ({next(q.depth for q in dlqs if q.queue_name == n)} messages)",
        )
        app.keep("dlq")

    @st.fragment(run_every=app.refresh_every())
    def body() -> None:
        app.with_store(lambda conn: _body(conn, dlq))

    body()
    if dlq:
        depth = next(q.depth for q in dlqs if q.queue_name == dlq)
        app.with_store(lambda conn: _redrive(conn, dlq, depth))
