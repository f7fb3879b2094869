"""``sagawatch alarms ...``: try filter patterns and alarm definitions before deploying them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from alarms.patterns import PatternSyntaxError, compile_pattern
from alarms.testmetric import test_metric_filter

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Metric filters and alarms: test patterns, simulate alarms.",
)


@app.callback()
def _group() -> None:
    """Metric filters and alarms: test patterns, simulate alarms."""


def _read_lines(source: str) -> list[str]:
    """Log events, one per line, from a file or ``-`` (stdin); blank lines are not events."""
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            typer.echo(f"error: FILE {source!r}: no such file", err=True)
            raise typer.Exit(2)
        text = path.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip() != ""]


@app.command("test-pattern")
def test_pattern(
    pattern: Annotated[str, typer.Argument(help="The filter pattern, e.g. '{ $.level = \"ERROR\" }'.")],
    source: Annotated[str, typer.Argument(metavar="[FILE|-]", help="Log lines, one event per line.")] = "-",
) -> None:
    """Print what CloudWatch's TestMetricFilter would return for these log lines (JSON)."""
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as exc:
        typer.echo(f"error: invalid filter pattern: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(test_metric_filter(compiled, _read_lines(source)), indent=2, ensure_ascii=False))
