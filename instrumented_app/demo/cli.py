"""The ``sagawatch demo`` command group."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from instrumented_app.demo import DEMOS, Demo
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

app = typer.Typer(
    help="Run one pattern end to end against the running stack and say what happened.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def run(
    pattern: Annotated[str | None, typer.Argument(help="The pattern to run; see --list.")] = None,
    list_patterns: Annotated[bool, typer.Option("--list", help="List the patterns.")] = False,
) -> None:
    """Exit 0 when the pattern behaved, 1 when it did not, 2 when it could not run."""
    if list_patterns or pattern is None:
        for name in sorted(DEMOS):
            typer.echo(name)
        return
    if pattern not in DEMOS:
        typer.echo(f"pattern: unknown {pattern!r}; known: {', '.join(sorted(DEMOS)) or 'none'}", err=True)
        raise typer.Exit(2)
    stack = StackInfo.read(get_settings().stack_file)
    if stack is None:
        typer.echo("no stack is running: start one with `sagawatch up`", err=True)
        raise typer.Exit(2)
    module_name, function_name = DEMOS[pattern].split(":")
    demo: Demo = getattr(importlib.import_module(module_name), function_name)
    raise typer.Exit(0 if demo(stack, typer.echo) else 1)
