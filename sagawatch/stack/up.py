"""``sagawatch up``: start every part on loopback, publish the endpoints, stop cleanly.

Parts start in dependency order and stop in reverse; any failure on the way up
stops what had started, so a failed start never leaves a half-stack behind.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from types import FrameType

import typer

from sagawatch.settings import Settings
from sagawatch.stack.aws import MotoServer
from sagawatch.stack.lock import StackAlreadyRunning, StackLock
from sagawatch.stack.postgres import start_databases
from sagawatch.stack_info import StackInfo


def _say(line: str) -> None:
    typer.echo(line)


def run_up(
    settings: Settings, *, smoke: bool = False, ready: Callable[[StackInfo], None] | None = None
) -> int:
    """Start the stack; block until SIGINT/SIGTERM (or run the smoke checks); return the exit code."""
    lock = StackLock(settings.home)
    try:
        lock.acquire()
    except StackAlreadyRunning as exc:
        running = StackInfo.read(settings.stack_file)
        where = f"; API at {running.api_endpoint}" if running else ""
        typer.echo(f"sagawatch up: {exc}{where}. Stop it first (Ctrl-C in its terminal).", err=True)
        return 3

    stop_requested = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ExitStack() as stack:
            stack.callback(lock.release)
            info = _start_all(settings, stack)
            stack.callback(settings.stack_file.unlink, missing_ok=True)
            info.write(settings.stack_file)
            for line in _describe(info):
                _say(line)
            if ready is not None:
                ready(info)
            if smoke:
                from sagawatch.stack.smoke import run_smoke

                return run_smoke(info, _say)
            _say("stack is up; Ctrl-C stops it")
            while not stop_requested.wait(0.5):
                pass
            _say("stopping")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_all(settings: Settings, stack: ExitStack) -> StackInfo:
    from collectors.otlp.server import TraceReceiver
    from instrumented_app.runtime.local import LocalRuntime

    # moto's CloudFormation imports most of moto on first use (seconds); do that while PostgreSQL
    # starts in its own process, so the two waits overlap instead of adding up.
    warm_up = threading.Thread(target=_import_moto_cloudformation, name="moto-warm-up", daemon=True)
    warm_up.start()

    databases = start_databases(settings.home, settings.database_url, settings.audit_database_url)
    stack.callback(databases.stop)
    _apply_schemas(databases.aurora_url, databases.audit_url)

    moto = MotoServer(settings.host, settings.moto_port)
    aws_endpoint = moto.start()
    stack.callback(moto.stop)
    warm_up.join()

    receiver = TraceReceiver(databases.audit_url, host=settings.host, port=settings.otlp_port)
    otlp_endpoint = receiver.start()
    stack.callback(receiver.stop)

    runtime = LocalRuntime(
        aws_endpoint=aws_endpoint,
        region=settings.region,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint or otlp_endpoint,
        host=settings.host,
        api_port=settings.api_port,
        extra_env={"DATABASE_URL": databases.aurora_url},
    )
    runtime.start()
    stack.callback(runtime.stop)

    return StackInfo(
        pid=os.getpid(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        region=settings.region,
        aws_endpoint=aws_endpoint,
        api_endpoint=runtime.main_api,
        otlp_endpoint=otlp_endpoint,
        aurora_url=databases.aurora_url,
        audit_url=databases.audit_url,
        extra={f"api:{name}": url for name, url in list(runtime.api_endpoints.items())[1:]},
    )


def _import_moto_cloudformation() -> None:
    import moto.cloudformation.parsing  # noqa: F401


def _apply_schemas(aurora_url: str, audit_url: str) -> None:
    """Each owner's migrations; package names only, so nothing is imported here."""
    from sagawatch.migrations import apply_migrations

    apply_migrations(aurora_url, "instrumented_app.schema")
    apply_migrations(audit_url, "collectors.schema")


def _describe(info: StackInfo) -> list[str]:
    return [f"{name:14} {value}" for name, value in info.model_dump(exclude={"extra", "saas"}).items()]
