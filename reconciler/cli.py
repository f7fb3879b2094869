"""``sagawatch reconcile``: diff Aurora against every SaaS, report, and repair on request.

Exit codes, for cron and EventBridge Scheduler: 0 clean, 1 drift found
(whether or not ``--apply`` repaired it), 2 on error (a bad argument, a
system that could not be read, no stack to talk to).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import psycopg
import typer

from reconciler.config import EndpointError, ReconcileSettings, resolve_endpoints
from reconciler.lock import RunLocked
from reconciler.mapping import MAPPINGS
from reconciler.report import ReportFormat, write_report
from reconciler.run import Mode, RunOptions, RunResult
from reconciler.store import AuditStore
from reconciler.wiring import reconcile_once
from sagawatch.redact import redact
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

app = typer.Typer(add_completion=False, help="Diff Aurora against every SaaS; report and repair drift.")

EXIT_ERROR = 2


@app.callback(invoke_without_command=True)
def reconcile(
    full: Annotated[
        bool, typer.Option("--full", help="Sweep every key (default: changes since last run).")
    ] = False,
    system: Annotated[
        list[str] | None, typer.Option("--system", "-s", help="A SaaS to check (repeatable; default: all).")
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Execute the repair plan (default: dry run).")
    ] = False,
    delete_orphans: Annotated[
        bool, typer.Option("--delete-orphans", help="With --apply: delete orphans and extra copies.")
    ] = False,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.MARKDOWN,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    key_from: Annotated[
        str | None, typer.Option("--key-from", help="With --full: first key (inclusive).")
    ] = None,
    key_to: Annotated[str | None, typer.Option("--key-to", help="With --full: end key (exclusive).")] = None,
) -> None:
    """Run one reconciliation and print its report."""
    systems = tuple(dict.fromkeys(system or sorted(MAPPINGS)))
    unknown = [s for s in systems if s not in MAPPINGS]
    if unknown:
        _fail(f"--system: unknown system {', '.join(unknown)}; known: {', '.join(sorted(MAPPINGS))}")
    if delete_orphans and not apply:
        _fail("--delete-orphans: only takes effect with --apply")
    if not full and (key_from is not None or key_to is not None):
        _fail("--key-from/--key-to: a key range needs --full")
    if output is not None and not output.parent.is_dir():
        _fail(f"--output: folder {output.parent} does not exist")
    settings = ReconcileSettings()
    options = RunOptions(
        mode=Mode.FULL if full else Mode.INCREMENTAL,
        systems=systems,
        apply=apply,
        delete_orphans=delete_orphans,
        key_from=None if key_from is None else key_from.strip().upper(),
        key_to=None if key_to is None else key_to.strip().upper(),
        grace=settings.grace,
        stale_tolerance=settings.stale_tolerance,
    )
    base = get_settings()
    try:
        endpoints = resolve_endpoints(base, settings, StackInfo.read(base.stack_file))
        result = reconcile_once(endpoints, settings, options, lock_wait_s=settings.lock_wait_s)
    except (EndpointError, RunLocked) as exc:
        _fail(str(exc))
    except Exception as exc:  # the exit code must say "error" whatever broke, with secrets out
        _fail(f"reconcile failed: {type(exc).__name__}: {redact(str(exc))}")
    try:
        _report(result, fmt, output, AuditStore(endpoints.audit_url))
    except (OSError, psycopg.Error) as exc:
        _fail(f"report failed: {type(exc).__name__}: {redact(str(exc))}")
    raise typer.Exit(result.exit_code)


def _report(result: RunResult, fmt: ReportFormat, output: Path | None, store: AuditStore) -> None:
    """The whole run's findings, read back from the audit store in batches (the result keeps a few)."""
    title = f"Reconciliation drift ({result.mode.value}, run {result.run_id})"
    findings = (f for batch in store.run_findings(result.run_id) for f in batch)
    with _open(output) as out:
        write_report(findings, fmt, out, deferred=result.deferred, title=title)
        if fmt is ReportFormat.MARKDOWN and result.plan:
            _write_plan_markdown(result, out)
    if fmt is not ReportFormat.MARKDOWN:
        for action in result.plan:
            typer.echo(f"repair: {action.describe()}", err=True)
        if result.planned > len(result.plan):
            typer.echo(f"repair: ... and {result.planned - len(result.plan)} more", err=True)
    for error in result.errors:
        typer.echo(f"error: {error}", err=True)
    summary = (
        f"run {result.run_id}: {result.status}, {result.finding_count} finding(s), "
        f"{len(result.deferred)} deferred, {result.planned} repair action(s)"
        f"{', applied' if result.repairs else ' (dry run)' if result.plan else ''}, {result.duration_s:.2f}s"
    )
    typer.echo(summary, err=True)


def _write_plan_markdown(result: RunResult, out: TextIO) -> None:
    applied = {o.action.idempotency_key: o for o in result.repairs}
    heading = "Repairs applied" if result.repairs else "Repair plan (dry run: `--apply` executes it)"
    out.write(f"\n## {heading}\n\n")
    for action in result.plan:
        outcome = applied.get(action.idempotency_key)
        status = f" — **{outcome.status}**" if outcome else ""
        out.write(f"- {action.describe()}{status}\n")
    if result.planned > len(result.plan):
        out.write(f"- ... and {result.planned - len(result.plan)} more (all in reconcile_repair)\n")


class _open:
    """stdout, or a file written whole (a partial report never replaces a previous one)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._tmp: Path | None = None
        self._handle: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self.path is None:
            return sys.stdout
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self._handle = self._tmp.open("w", encoding="utf-8", newline="")
        return self._handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._handle is None or self._tmp is None or self.path is None:
            return
        self._handle.close()
        if exc_type is None:
            self._tmp.replace(self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_ERROR)
