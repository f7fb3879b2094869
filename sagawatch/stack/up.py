"""``sagawatch up``: start every part on loopback, publish the endpoints, stop cleanly.

Parts start in dependency order and stop in reverse; any failure on the way up
stops what had started, so a failed start never leaves a half-stack behind.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import NoReturn

import typer

from sagawatch.migrations import apply_migrations
from sagawatch.redact import redact
from sagawatch.settings import Settings
from sagawatch.signals import stop_requested_on_signals
from sagawatch.stack.aws import MotoServer
from sagawatch.stack.lock import StackAlreadyRunning, StackLock
from sagawatch.stack.postgres import start_databases
from sagawatch.stack_info import StackInfo


def _say(line: str) -> None:
    typer.echo(line)


#: Each audit package owns its tables in the one audit store; listed by name, so nothing is imported here.
AUDIT_SCHEMAS = ("collectors.schema", "reconciler.schema", "alarms.schema", "dashboard.schema")


class StartupFailed(RuntimeError):
    """One part of the stack could not start; ``part`` names it for the operator."""

    def __init__(self, part: str, cause: BaseException) -> None:
        super().__init__(f"could not start {part}: {type(cause).__name__}: {redact(str(cause)).strip()}")
        self.part = part


@contextmanager
def _starting(part: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise StartupFailed(part, exc) from exc


def run_up(settings: Settings, *, smoke: bool = False) -> int:
    """Start the stack; block until SIGINT/SIGTERM (or run the smoke checks); return the exit code."""
    lock = StackLock(settings.home)
    try:
        lock.acquire()
    except StackAlreadyRunning as exc:
        running = StackInfo.read(settings.stack_file)
        where = f"; API at {running.api_endpoint}" if running else ""
        typer.echo(f"sagawatch up: {exc}{where}. Stop it first (Ctrl-C in its terminal).", err=True)
        return 3

    with stop_requested_on_signals() as stop_requested, ExitStack() as stack:
        stack.callback(lock.release)
        try:
            info = _start_all(settings, stack)
            _start_background(settings, info, stack)
        except StartupFailed as exc:
            typer.echo(f"sagawatch up: {exc}", err=True)
            return 2
        stack.callback(settings.stack_file.unlink, missing_ok=True)
        info.write(settings.stack_file)
        for line in _describe(info):
            _say(line)
        if smoke:
            from sagawatch.stack.smoke import run_smoke

            return run_smoke(info, _say)
        _say("stack is up; Ctrl-C stops it")
        while not stop_requested.wait(0.5):
            pass
        _say("stopping")
    _say("stopped")
    return 0


def exit_at_once(code: int) -> NoReturn:
    """End the process once every part has stopped, skipping the interpreter's teardown.

    Every part is already stopped and its output flushed by then; what remains is
    the interpreter collecting millions of objects (moto's services, the SAM
    translator, SQLAlchemy and Streamlit modules), which took 3-11 s of CPU after
    "stopping" and made operators, supervisors and tests wait for nothing.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _start_all(settings: Settings, stack: ExitStack) -> StackInfo:
    from collectors.otlp.server import TraceReceiver
    from instrumented_app.runtime.local import LocalRuntime
    from instrumented_app.saas_sim.server import SaasSimulators

    # moto's CloudFormation imports most of moto on first use, and the SAM translation takes a
    # while too (seconds each); do both while PostgreSQL starts in its own process, so the waits
    # overlap instead of adding up. The translation is cached for the runtime's provisioning.
    warm_up = threading.Thread(target=_warm_up, args=(settings.region,), name="warm-up", daemon=True)
    warm_up.start()

    with _starting("PostgreSQL (aurora and audit databases)"):
        databases = start_databases(settings.home, settings.database_url, settings.audit_database_url)
        stack.callback(databases.stop)
    with _starting("the aurora schema"):
        apply_migrations(databases.aurora_url, "instrumented_app.schema")
    with _starting("the audit schema"):
        for package in AUDIT_SCHEMAS:
            apply_migrations(databases.audit_url, package)

    with _starting("moto (AWS)"):
        moto = MotoServer(settings.host, settings.moto_port)
        aws_endpoint = moto.start()
        stack.callback(moto.stop)
        warm_up.join()

    with _starting("the OTLP trace receiver"):
        receiver = TraceReceiver(databases.audit_url, host=settings.host, port=settings.otlp_port)
        otlp_endpoint = receiver.start()
        stack.callback(receiver.stop)

    with _starting("the SaaS simulators"):
        simulators = SaasSimulators(host=settings.host, state_dir=settings.home / "saas")
        saas = simulators.start()
        stack.callback(simulators.stop)

    with _starting("the local Lambda runtime"):
        runtime = LocalRuntime(
            aws_endpoint=aws_endpoint,
            region=settings.region,
            otlp_endpoint=settings.otel_exporter_otlp_endpoint or otlp_endpoint,
            host=settings.host,
            api_port=settings.api_port,
            extra_env={
                "DATABASE_URL": databases.aurora_url,
                **{f"SAGAWATCH_{name.upper()}_URL": url for name, url in saas.items()},
            },
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
        saas=saas,
        extra={f"api:{name}": url for name, url in list(runtime.api_endpoints.items())[1:]},
    )


def _start_background(settings: Settings, info: StackInfo, stack: ExitStack) -> None:
    """What runs on a schedule once the stack is up: collectors, alarm evaluation, reconciliation."""
    from alarms.engine.local import start_local_loop
    from collectors.runner import Collector, CollectorLoop
    from reconciler.schedule import ReconcileSchedule

    with _starting("the collectors"):
        collectors = CollectorLoop(Collector(settings, info), settings.collect_interval_s)
        collectors.start()
        stack.callback(collectors.stop)
    with _starting("the alarm evaluator"):
        alarm_loop = start_local_loop(info)
        stack.callback(alarm_loop.stop)
    with _starting("the reconcile schedule"):
        reconcile = ReconcileSchedule(settings, info)
        reconcile.start()
        stack.callback(reconcile.stop)
    if settings.dashboard:
        from dashboard.server import DashboardServer

        with _starting("the dashboard"):
            dashboard = DashboardServer(
                info.audit_url,
                settings.host,
                settings.dashboard_port,
                settings.stack_file,
                log_path=settings.home / "dashboard.log",
            )
            info.extra["dashboard"] = dashboard.start()
            stack.callback(dashboard.stop)


def _warm_up(region: str) -> None:
    import moto.cloudformation.parsing  # noqa: F401

    from instrumented_app.runtime.template import translated_template

    translated_template(region=region)


def _describe(info: StackInfo) -> list[str]:
    """The endpoints as printed; passwords in database URLs stay in stack.json only."""
    fields = {**info.model_dump(exclude={"extra", "saas"}), **info.saas, **info.extra}
    return [f"{name:14} {redact(str(value))}" for name, value in fields.items()]
