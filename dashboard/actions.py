"""Operator actions: confirmed, written to the audit log, run through the ``sagawatch`` CLI.

An action is the same command an operator would type (``sagawatch jobs redrive --max 5``), run as a
subprocess so the dashboard shares the CLI's code and never imports the app. Each run is recorded in
``dashboard_actions`` before it starts and completed when it ends, with who (``SAGAWATCH_OPERATOR`` or
the OS user), what, the exit code and the (masked, truncated) output. Pure pieces (the command line,
the operator) are apart from the I/O (``record_*``, ``run_action``) and from the Streamlit widget
(``action_button``), which asks for confirmation and shows the output as it arrives.
"""

from __future__ import annotations

import getpass
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

import psycopg
from pydantic import BaseModel, Field, field_validator

from dashboard.db import connect
from dashboard.masking import mask_text

OPERATOR_ENV = "SAGAWATCH_OPERATOR"
#: An action that runs longer is stopped and recorded as failed.
DEFAULT_TIMEOUT_S = 300.0
#: Output kept in the audit log (the tail, which holds the summary).
OUTPUT_LIMIT = 8_000
#: How often a running action's deadline is checked while it is quiet.
POLL_S = 0.5


class ActionSpec(BaseModel):
    """One action: a name for the log, what it acts on, and the ``sagawatch`` arguments that do it."""

    action: str = Field(min_length=1, description="e.g. 'saga resume', 'jobs redrive'")
    target: str | None = Field(default=None, description="what it acts on: a saga id, a queue, a function")
    args: tuple[str, ...] = Field(default=(), description="arguments after `sagawatch`; empty: log only")
    note: str | None = None

    @field_validator("args")
    @classmethod
    def _no_blank_args(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not arg.strip() for arg in value):
            raise ValueError("args: every argument must be non-blank")
        return value


class ActionResult(BaseModel):
    action_id: int
    exit_code: int
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def operator_name() -> str:
    """Who is acting: the configured name, else the OS user."""
    configured = os.environ.get(OPERATOR_ENV, "").strip()
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (a container)
        return f"uid:{os.getuid()}"


def command_line(spec: ActionSpec) -> list[str]:
    """The process to run for ``spec``: this interpreter's ``sagawatch``."""
    return [sys.executable, "-m", "sagawatch", *spec.args]


def record_start(conn: psycopg.Connection[Any], spec: ActionSpec, operator: str) -> int:
    row = conn.execute(
        "INSERT INTO dashboard_actions (operator, action, target, note, command, status)"
        " VALUES (%s, %s, %s, %s, %s, 'started') RETURNING id",
        (operator, spec.action, spec.target, mask_text(spec.note) or None, ["sagawatch", *spec.args]),
    ).fetchone()
    assert row is not None
    return int(row["id"] if isinstance(row, dict) else row[0])


def record_finish(conn: psycopg.Connection[Any], action_id: int, exit_code: int, output: str) -> None:
    conn.execute(
        "UPDATE dashboard_actions SET status = %s, exit_code = %s, output = %s, finished_at = now()"
        " WHERE id = %s",
        ("succeeded" if exit_code == 0 else "failed", exit_code, output[-OUTPUT_LIMIT:], action_id),
    )


def run_action(
    spec: ActionSpec,
    *,
    url: str | None = None,
    on_line: Callable[[str], None] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    env: dict[str, str] | None = None,
) -> ActionResult:
    """Record, run and record the end of ``spec``; ``on_line`` gets each masked output line as it comes.

    An action without ``args`` (e.g. "mark resolved") is only recorded, as succeeded.
    """
    with connect(url) as conn:
        action_id = record_start(conn, spec, operator_name())
    lines: list[str] = []
    exit_code = 0
    if spec.args:
        exit_code = _run(command_line(spec), lines, on_line, timeout_s, env)
    output = "\n".join(lines)
    with connect(url) as conn:
        record_finish(conn, action_id, exit_code, output)
    return ActionResult(action_id=action_id, exit_code=exit_code, output=output)


def _pump(stream: IO[str], pending: queue.Queue[str | None]) -> None:
    """Hand each output line to the waiting caller; ``None`` when the process closes its output."""
    for raw in stream:
        pending.put(raw)
    pending.put(None)


def _run(
    argv: Sequence[str],
    lines: list[str],
    on_line: Callable[[str], None] | None,
    timeout_s: float,
    env: dict[str, str] | None,
) -> int:
    """Run ``argv`` until it ends or ``timeout_s`` passes (then kill it); lines are masked as they come.

    Output is read in a thread so a process that goes quiet cannot hold the caller past the deadline.
    """
    deadline = time.monotonic() + timeout_s
    stopped = f"stopped: still running after {timeout_s:g} s"
    with subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    ) as process:
        assert process.stdout is not None
        pending: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, pending), daemon=True).start()
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                raw = pending.get(timeout=min(remaining, POLL_S))
            except queue.Empty:
                continue
            if raw is None:  # output closed: the process is ending
                try:
                    return process.wait(timeout=max(remaining, POLL_S))
                except subprocess.TimeoutExpired:
                    break
            line = mask_text(raw.rstrip("\n"))
            lines.append(line)
            if on_line is not None:
                on_line(line)
        process.kill()
        process.wait()
        lines.append(stopped)
        return -9


def recent_actions(conn: psycopg.Connection[Any], target: str | None = None, limit: int = 20) -> list[Any]:
    """The latest actions (on ``target`` when given), newest first."""
    if target is None:
        return conn.execute(
            "SELECT * FROM dashboard_actions ORDER BY started_at DESC, id DESC LIMIT %s", (limit,)
        ).fetchall()
    return conn.execute(
        "SELECT * FROM dashboard_actions WHERE target = %s ORDER BY started_at DESC, id DESC LIMIT %s",
        (target, limit),
    ).fetchall()


def action_button(
    key: str,
    label: str,
    spec: ActionSpec,
    *,
    confirm: str,
    disabled: bool = False,
    help_text: str | None = None,
) -> ActionResult | None:
    """A button that asks "are you sure" (``confirm`` says what will happen), then runs ``spec``.

    The pending confirmation lives in ``st.session_state`` so an auto-refresh between the two clicks
    does not lose it. Output streams into an ``st.status`` box while the command runs.
    """
    import streamlit as st

    pending_key = f"action_pending_{key}"
    result_key = f"action_result_{key}"
    if st.button(label, key=f"action_{key}", disabled=disabled, help=help_text):
        st.session_state[pending_key] = True
        st.session_state.pop(result_key, None)
    finished: ActionResult | None = st.session_state.get(result_key)
    if finished is not None:
        _show_result(label, finished)
    if not st.session_state.get(pending_key):
        return None
    st.warning(f"{confirm} — run `sagawatch {' '.join(spec.args)}` as {operator_name()}?")
    yes, no = st.columns(2)
    if no.button("Cancel", key=f"action_cancel_{key}"):
        st.session_state[pending_key] = False
        st.rerun()
    if not yes.button("Confirm", key=f"action_confirm_{key}", type="primary"):
        return None
    st.session_state[pending_key] = False
    with st.status(f"{label}…", expanded=True) as status:

        def show(line: str) -> None:
            st.text(line)

        result = run_action(spec, on_line=show)
        status.update(label=_outcome(label, result), state="complete" if result.ok else "error")
    st.session_state[result_key] = result
    st.rerun()  # redraw without the confirmation; the result box above says how it went
    return result


def _outcome(label: str, result: ActionResult) -> str:
    return f"{label}: {'done' if result.ok else f'failed (exit {result.exit_code})'}"


def _show_result(label: str, result: ActionResult) -> None:
    import streamlit as st

    box = st.success if result.ok else st.error
    box(_outcome(label, result))
    if result.output:
        with st.expander("Output", expanded=not result.ok):
            st.code(result.output[-OUTPUT_LIMIT:], language=None)
