"""Trace inspector: find a transaction by correlation id, trace id, saga id or cust_no, and show its
sagas and a waterfall of spans per trace, each span with the log lines written in it, errors marked.

The search lives in the URL (``?correlation_id=...``) so every other page can link here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import psycopg
import streamlit as st

from collectors.transaction.view import SpanNode, Transaction
from dashboard import app
from dashboard.masking import mask_text
from dashboard.queries.trace import SEARCH_KINDS, SearchKind, logs_by_span, resolve, transaction

Conn = psycopg.Connection[dict[str, Any]]
#: Spans drawn per trace; a longer trace is cut with a note (the waterfall stays readable and fast).
MAX_SPANS = 300
MAX_LOG_LINES_PER_SPAN = 50


def _search() -> tuple[SearchKind, str]:
    kinds = list(SEARCH_KINDS)
    for linked in kinds:  # a link from another page: ?correlation_id=... (or trace_id, saga_id, cust_no)
        link = (linked, st.query_params.get(linked))
        if link[1] and st.session_state.get("trace_link") != link:  # applied once: later edits win
            st.session_state["trace_link"] = link
            st.session_state["w_trace_kind"], st.session_state["w_trace_value"] = link
            break
    cols = st.columns([1, 3])
    kind: SearchKind = cols[0].selectbox(
        "Search by",
        kinds,
        format_func=lambda k: SEARCH_KINDS[k],
        key=app.kept("trace_kind", "correlation_id"),
    )
    value = cols[1].text_input("Value", key=app.kept("trace_value", ""), placeholder="e.g. a correlation id")
    app.keep("trace_kind")
    app.keep("trace_value")
    return kind, (value or "").strip()


def _waterfall(nodes: list[SpanNode]) -> None:
    rows = [
        {
            "order": index,
            "span": f"{index:03d} " + "· " * node.depth + node.name,
            "start": node.start.isoformat(),
            "end": node.end.isoformat(),
            "ms": round(node.duration_ms, 1),
            "service": node.service or "",
            "outcome": "error" if node.status_code == "ERROR" else "ok",
        }
        for index, node in enumerate(nodes)
    ]
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("start:T", title=None),
            x2="end:T",
            y=alt.Y("span:N", sort=None, title=None, axis=alt.Axis(labelLimit=400)),
            color=alt.Color(
                "outcome:N", scale=alt.Scale(domain=["ok", "error"], range=["#1565c0", "#c62828"])
            ),
            tooltip=["span:N", "service:N", "ms:Q", "outcome:N"],
        )
        .properties(height=max(120, 22 * len(rows)))
    )
    st.altair_chart(chart, width="stretch")


def _log_text(line: Mapping[str, Any]) -> str:
    level = line.get("level") or line.get("kind") or ""
    code = f" [{line['error_code']}]" if line.get("error_code") else ""
    text = line.get("message") or line.get("raw") or ""
    return f"{line['ts']:%H:%M:%S.%f}"[:-3] + f" {level}{code} {mask_text(str(text))}"


def _span_rows(nodes: list[SpanNode], logs: dict[str | None, list[Mapping[str, Any]]]) -> None:
    for node in nodes:
        left, right = st.columns([2, 3])
        mark = ":red[:material/error:] " if node.status_code == "ERROR" else ""
        indent = "· " * node.depth
        left.markdown(f"{indent}{mark}`{node.name}` · {node.duration_ms:.1f} ms · {node.service or ''}")
        lines = logs.get(node.span_id, [])[:MAX_LOG_LINES_PER_SPAN]
        if lines:
            right.code("\n".join(_log_text(line) for line in lines), language=None)
        else:
            right.caption("no log line in this span")


def _show(conn: Conn, correlation_id: str) -> None:
    found = transaction(conn, correlation_id)
    if found.empty:
        st.warning(
            f"Nothing is known about correlation id {correlation_id} (yet): "
            "spans and logs arrive with the next collection pass."
        )
        return
    st.subheader(f"Transaction {correlation_id}")
    _sagas(found)
    logs = logs_by_span(found.logs)
    for trace_id in found.trace_ids:
        nodes = [n for n in found.waterfall if n.trace_id == trace_id]
        errors = sum(1 for n in nodes if n.status_code == "ERROR")
        st.markdown(
            f"#### Trace `{trace_id}` · {len(nodes)} spans"
            + (f" · :red[{errors} with errors]" if errors else "")
        )
        if len(nodes) > MAX_SPANS:
            st.caption(f"showing the first {MAX_SPANS} of {len(nodes)} spans")
            nodes = nodes[:MAX_SPANS]
        _waterfall(nodes)
        _span_rows(nodes, logs)
    loose = logs.get(None, [])
    if loose:
        st.markdown("#### Log lines outside any span")
        st.code("\n".join(_log_text(line) for line in loose[:200]), language=None)
    if found.dlq_messages:
        st.markdown("#### In a dead-letter queue")
        for message in found.dlq_messages:
            st.markdown(
                f"`{message['message_id']}` in {message['queue_name']},"
                f" received {message.get('receive_count')}x"
            )


def _sagas(found: Transaction) -> None:
    for saga in found.sagas:
        stuck = " · STUCK" if saga.get("stuck") else ""
        st.page_link(
            app.page("sagas"),
            label=f"{saga['saga_type']} saga {saga['saga_id']}: {saga['status']}{stuck}",
            query_params={"saga_id": saga["saga_id"]},
            icon=":material/account_tree:",
        )


def _body(conn: Conn, kind: SearchKind, value: str) -> None:
    ids = resolve(conn, kind, value)
    if not ids:
        st.warning(f"No transaction found for {SEARCH_KINDS[kind].lower()} {value}.")
        return
    if len(ids) > 1:
        chosen = st.selectbox(f"{len(ids)} transactions match", ids, key="trace_choice")
        ids = [chosen or ids[0]]
    _show(conn, ids[0])


def render() -> None:
    st.title("Trace inspector")
    kind, value = _search()
    if not value:
        st.info(
            "Enter a correlation id, trace id, saga id or cust_no. The transaction's sagas, a waterfall of "
            "its spans across the API, Lambdas, queues and SaaS calls, and each span's log lines show here."
        )
        return

    @st.fragment(run_every=app.refresh_every())
    def body() -> None:
        app.with_store(lambda conn: _body(conn, kind, value))

    body()
