"""Sagas: the list (stuck and failed first, filterable) and one saga's page (timeline, actions).

The list's filters live in ``st.session_state`` under ``keep_*`` keys, copied from their widgets each
run, so they survive the auto-refresh and a visit to another page. A saga's page is the same page with
``?saga_id=...``, so it can be linked from the overview, the trace inspector or a chat message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import altair as alt
import psycopg
import streamlit as st

from dashboard import app
from dashboard.actions import ActionSpec, action_button, operator_name, recent_actions
from dashboard.masking import mask_text
from dashboard.queries.overview import format_age
from dashboard.queries.sagas import (
    Runbook,
    SagaDetail,
    SagaFilters,
    facets,
    list_sagas,
    saga_detail,
    saga_status,
)

Conn = psycopg.Connection[dict[str, Any]]
#: Problem sagas offered as links under the table (the table itself is for scanning).
LINKED_ROWS = 10
#: Sagas a person settles (runbook shown, "mark resolved" offered) and sagas with nothing left to do.
NEEDING_A_PERSON = ("MANUAL_INTERVENTION", "FAILED")
ENDED_WELL = ("SUCCEEDED", "COMPENSATED")
#: Material icons (Streamlit ships the font; the machine may have no emoji font).
STEP_MARKS = {
    "SUCCEEDED": ":green[:material/check_circle:]",
    "FAILED": ":red[:material/error:]",
    "COMPENSATING": ":violet[:material/undo:]",
    "COMPENSATED": ":violet[:material/undo:]",
    "SKIPPED": ":gray[:material/skip_next:]",
}
STATUS_COLOURS = {
    "SUCCEEDED": "#2e7d32",
    "COMPENSATED": "#6a1b9a",
    "COMPENSATING": "#ab47bc",
    "RUNNING": "#1565c0",
    "PENDING": "#90a4ae",
    "FAILED": "#c62828",
    "SKIPPED": "#bdbdbd",
}


def _filters(conn: Conn) -> SagaFilters:
    options = facets(conn)
    cols = st.columns([2, 2, 1, 2, 2])
    cols[0].multiselect("Type", options.types, key=app.kept("types", []))
    cols[1].multiselect("Status", options.statuses, key=app.kept("statuses", []))
    cols[2].number_input("Idle ≥ min", min_value=0.0, step=1.0, key=app.kept("idle_min", 0.0))
    cols[3].selectbox("Current step", ["(any)", *options.steps], key=app.kept("step", "(any)"))
    cols[4].text_input("Correlation id", key=app.kept("correlation_id", ""))
    st.toggle("Only stuck, failed or needing a person", key=app.kept("only_problems", False))
    step = app.keep("step")
    return SagaFilters(
        types=app.keep("types") or [],
        statuses=app.keep("statuses") or [],
        idle_min=app.keep("idle_min") or None,
        step=None if step in (None, "(any)") else step,
        correlation_id=(app.keep("correlation_id") or "").strip() or None,
        only_problems=bool(app.keep("only_problems")),
    )


def _list(conn: Conn, filters: SagaFilters) -> None:
    rows = list_sagas(conn, filters)
    if not rows:
        st.info(
            "No saga matches. Sagas appear here once the collectors have read them from Aurora and Step "
            "Functions (`sagawatch collect`), stuck and failed ones first."
        )
        return
    frame = [
        {
            "saga": r.saga_id,
            "type": r.saga_type,
            "status": f"{r.status} (resolved)" if r.resolved else r.status,
            "stuck": r.stuck,
            "step": r.current_step,
            "attempts": r.attempts,
            "idle": format_age(r.idle_s),
            "correlation id": r.correlation_id,
            "last error": r.last_error,
        }
        for r in rows
    ]
    st.caption(f"{len(rows)} saga(s), stuck and failed first")
    st.dataframe(frame, hide_index=True, width="stretch")
    problems = [r for r in rows if r.needs_a_person][:LINKED_ROWS]
    for row in problems:
        label = f"Open {row.saga_type} saga {row.saga_id} ({'STUCK, ' if row.stuck else ''}{row.status})"
        st.page_link(app.page("sagas"), label=label, query_params={"saga_id": row.saga_id})


def _timeline(detail: SagaDetail) -> None:
    timed = [s for s in detail.steps if s.started_at is not None]
    if not timed:
        st.info("No step has started yet.")
        return
    now = datetime.now(UTC)
    frame = alt.Data(
        values=[
            {
                "step": f"{s.seq:02d} {s.name}",
                "start": s.started_at.isoformat() if s.started_at else None,
                "end": (s.finished_at or now).isoformat(),
                "status": s.status,
                "error": s.error or "",
            }
            for s in timed
        ]
    )
    colours = alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values()))
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("start:T", title="time"),
            x2="end:T",
            y=alt.Y("step:N", sort=None, title=None, axis=alt.Axis(labelLimit=400)),
            color=alt.Color("status:N", scale=colours),
            tooltip=["step:N", "status:N", "start:T", "end:T", "error:N"],
        )
    )
    starts = bars.mark_point(filled=True, size=60)  # an instant step is a dot, not an invisible bar
    st.altair_chart(bars + starts, width="stretch")


def _steps_table(detail: SagaDetail) -> None:
    for step in detail.steps:
        mark = STEP_MARKS.get(step.status, ":blue[:material/pending:]")
        line = f"{mark} **{step.seq}. {step.name}** — {step.status}"
        if step.started_at:
            line += f" · started {step.started_at:%H:%M:%S}"
        st.markdown(line)
        if step.error:
            st.error(f"step {step.name}: {step.error}")


def _runbook(saga_id: str, status: str, entry: Runbook | None) -> None:
    """The runbook entry: where it stopped, what was done, what remains, the commands, the diff."""
    st.markdown("#### Runbook")
    if entry is None:
        if status == "MANUAL_INTERVENTION":
            st.warning("This saga needs a person, and no runbook entry has been collected for it yet.")
        return
    if entry.status == "RESOLVED":
        when = f" at {entry.resolved_at:%Y-%m-%d %H:%M} UTC" if entry.resolved_at else ""
        st.success(f"Runbook entry resolved{when}: see the saga's history below for who and the note.")
    else:
        st.warning(f"Stopped at {entry.failed_step or '?'}: {entry.error or 'no error recorded'}")
    done, remaining = st.columns(2)
    done.markdown("**Done**")
    for item in entry.done:
        done.markdown(f":green[:material/check_circle:] `{item.get('step')}` {item.get('what', '')}")
    remaining.markdown("**Remaining**")
    for item in entry.remaining:
        state = f" ({item['status']})" if item.get("status") else ""
        remaining.markdown(f":orange[:material/pending:] `{item.get('step')}` {item.get('what', '')}{state}")
    for purpose, commands in entry.commands.items():
        st.markdown(f"**Commands to {purpose}**")
        st.code("\n".join(commands), language="bash")
    if entry.diff:
        st.markdown("**Before and after**")
        st.dataframe(entry.diff, hide_index=True, width="stretch")
    st.caption(f"`sagawatch saga runbook {saga_id}` prints the same entry.")


def _detail_body(conn: Conn, saga_id: str) -> None:
    detail = saga_detail(conn, saga_id)
    if detail is None:
        st.warning(f"No saga {saga_id} in the audit store (yet): it appears after the next collection pass.")
        return
    saga = detail.saga
    st.subheader(f"{saga['saga_type']} saga {saga_id}")
    if saga.get("stuck"):
        st.error(f"STUCK: not moved for {format_age(saga.get('idle_s'))} in step {saga.get('current_step')}")
    cols = st.columns(4)
    cols[0].metric("Status", saga["status"])
    cols[1].metric("Current step", saga.get("current_step") or "-")
    cols[2].metric("Attempts", saga.get("attempts", 0))
    cols[3].metric("Correlation id", saga.get("correlation_id") or "-")
    if saga.get("last_error"):
        st.error(f"last error: {saga['last_error']}")
    if saga["status"] in NEEDING_A_PERSON:
        _runbook(saga_id, saga["status"], detail.runbook)
    st.markdown("#### Steps")
    _timeline(detail)
    _steps_table(detail)
    st.markdown("#### Compensations")
    if detail.compensations:
        for step in detail.compensations:
            st.markdown(
                f":material/undo: {step.name}: {step.status}" + (f" — {step.error}" if step.error else "")
            )
    else:
        st.caption("No step has been compensated.")
    st.markdown("#### Trace")
    if saga.get("correlation_id"):
        found = f"{len(detail.trace_ids)} trace(s)" if detail.trace_ids else "no span collected yet"
        st.page_link(
            app.page("trace"),
            label=f"Open its trace ({found})",
            query_params={"correlation_id": saga["correlation_id"]},
            icon=":material/timeline:",
        )
    for row in recent_actions(conn, target=saga_id, limit=10):
        note = f" — {row['note']}" if row.get("note") else ""
        st.caption(
            f"{row['started_at']:%Y-%m-%d %H:%M:%S} {row['operator']}: {row['action']} {row['status']}{note}"
        )


def _actions(saga_id: str, status: str | None) -> None:
    """Resume, compensate, mark resolved: each runs its ``sagawatch saga`` command after a confirmation."""
    st.markdown("#### Actions")
    ended_well = status in ENDED_WELL
    cols = st.columns(3)
    with cols[0]:
        action_button(
            f"resume_{saga_id}",
            "Resume",
            ActionSpec(action="saga resume", target=saga_id, args=("saga", "resume", saga_id)),
            confirm=f"Continue saga {saga_id} from its recorded state (forward or its compensation)",
            disabled=ended_well,
            help_text=f"The saga ended {status}." if ended_well else None,
        )
    with cols[1]:
        action_button(
            f"compensate_{saga_id}",
            "Compensate",
            ActionSpec(
                action="saga compensate", target=saga_id, args=("saga", "compensate", saga_id, "--yes")
            ),
            confirm=f"Undo saga {saga_id}: compensate its done steps in reverse (what it made is deleted)",
            disabled=ended_well,
            help_text=f"The saga ended {status}." if ended_well else None,
        )
    with cols[2]:
        note = mask_text(
            st.text_input(
                "Resolution note", key=f"note_{saga_id}", placeholder="what was done, ticket"
            ).strip()
        )
        resolvable = status in NEEDING_A_PERSON
        command = ("saga", "resolve", saga_id, "--note", note, "--by", operator_name())
        action_button(
            f"resolve_{saga_id}",
            "Mark resolved",
            ActionSpec(
                action="saga resolve", target=saga_id, note=note or None, args=command if note else ()
            ),
            confirm=f"Record saga {saga_id} as settled by hand (its runbook entry is closed)",
            disabled=not note or not resolvable,
            help_text="Write a note first: it goes into the audit logs."
            if resolvable
            else "Only a saga that ended MANUAL_INTERVENTION or FAILED is resolved by hand.",
        )


def render() -> None:
    st.title("Sagas")
    saga_id = st.query_params.get("saga_id")
    refresh = app.refresh_every()
    if saga_id:
        st.page_link(app.page("sagas"), label="All sagas", icon=":material/arrow_back:")

        @st.fragment(run_every=refresh)
        def detail() -> None:
            app.with_store(lambda conn: _detail_body(conn, saga_id))

        detail()
        _actions(saga_id, app.with_store(lambda conn: saga_status(conn, saga_id)))
        return
    filters = app.with_store(_filters)
    if filters is None:
        return

    @st.fragment(run_every=refresh)
    def body() -> None:
        app.with_store(lambda conn: _list(conn, filters))

    body()
