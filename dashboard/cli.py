"""``sagawatch dashboard``: serve the operators' dashboard on 127.0.0.1 until interrupted."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer

from dashboard.db import AuditStoreUnavailable, audit_url
from dashboard.server import DashboardServer
from sagawatch.migrations import apply_migrations
from sagawatch.redact import redact
from sagawatch.serving import ServerStartError
from sagawatch.settings import get_settings
from sagawatch.signals import stop_requested_on_signals

app = typer.Typer(add_completion=False, help="Open the operators' dashboard (Streamlit) on 127.0.0.1.")


@app.callback(invoke_without_command=True)
def serve(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0 picks a free port.")] = 8501,
    url: Annotated[
        str | None, typer.Option("--audit-url", help="The audit store; default: environment or stack.json.")
    ] = None,
) -> None:
    """Start the dashboard against the audit store and print its URL; Ctrl-C (or SIGTERM) stops it."""
    settings = get_settings()
    try:
        target = url or audit_url()
    except AuditStoreUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    try:  # the dashboard's own table (its audit log of actions); a no-op once applied
        apply_migrations(target, "dashboard.schema")
    except psycopg.Error as exc:
        typer.echo(f"cannot prepare the audit store: {redact(str(exc)).strip()}", err=True)
        raise typer.Exit(2) from exc
    server = DashboardServer(target, settings.host, port, settings.stack_file)
    try:
        typer.echo(f"dashboard on {server.start()} (audit store {redact(target)})")
    except ServerStartError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    with stop_requested_on_signals() as stop_requested:
        try:
            while server.running and not stop_requested.wait(1.0):  # until a signal or Streamlit ends
                pass
            if stop_requested.is_set():
                typer.echo("stopping the dashboard")
            else:
                typer.echo(f"the dashboard process ended; see {server.log_path}", err=True)
        finally:
            server.stop()
