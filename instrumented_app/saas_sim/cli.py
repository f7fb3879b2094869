"""``sagawatch faults``: set, show and clear the SaaS simulators' fault switches of the running stack.

The simulators' URLs come from the running stack's ``stack.json`` (field
``saas``), never from guessed ports. ``set`` changes only the options given
and keeps the rest of the current config.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer

from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Fault switches of the SaaS simulators.")

_TIMEOUT_S = 5.0


def _stack_simulators() -> dict[str, str]:
    settings = get_settings()
    info = StackInfo.read(settings.stack_file)
    if info is None:
        typer.echo(
            f"no stack is running (no live {settings.stack_file}); start one with `sagawatch up`", err=True
        )
        raise typer.Exit(1)
    if not info.saas:
        typer.echo("the running stack publishes no SaaS simulators", err=True)
        raise typer.Exit(1)
    return info.saas


def _targets(name: str | None) -> dict[str, str]:
    simulators = _stack_simulators()
    if name is None:
        return simulators
    if name not in simulators:
        known = ", ".join(sorted(simulators))
        typer.echo(f"unknown simulator {name!r}; the running stack has: {known}", err=True)
        raise typer.Exit(2)
    return {name: simulators[name]}


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        with httpx.Client(timeout=_TIMEOUT_S, trust_env=False) as client:
            response = client.request(method, url, json=body)
    except httpx.HTTPError as exc:
        typer.echo(f"cannot reach {url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    if response.status_code == 400:
        typer.echo(f"refused: {response.json().get('description', response.text)}", err=True)
        raise typer.Exit(2)
    if response.status_code != 200:
        typer.echo(f"{method} {url} answered {response.status_code}: {response.text[:200]}", err=True)
        raise typer.Exit(1)
    result: dict[str, Any] = response.json()
    return result


def _describe(name: str, config: dict[str, Any]) -> str:
    rate = config.get("rate_limit_per_s")
    limit = "none" if rate is None else f"{rate}/s burst {config.get('burst') or 'default'}"
    return (
        f"{name:11} error_rate={config['error_rate']} timeout_rate={config['timeout_rate']} "
        f"(hang {config['hang_ms']} ms, {config['timeout_phase']}) latency_ms={config['latency_ms']} "
        f"rate_limit={limit} seed={config['seed']}"
    )


@app.command("set")
def set_faults(
    name: Annotated[str, typer.Argument(help="Simulator: support, commerce or membership.")],
    error_rate: Annotated[float | None, typer.Option(help="Share of calls answered 500/503 (0..1).")] = None,
    timeout_rate: Annotated[
        float | None, typer.Option(help="Share of calls that hang, then drop the connection (0..1).")
    ] = None,
    latency_ms: Annotated[int | None, typer.Option(help="Milliseconds added to every call.")] = None,
    rate_limit: Annotated[
        float | None, typer.Option(help="Calls per second the bucket leaks; 0 removes the limit.")
    ] = None,
    burst: Annotated[int | None, typer.Option(help="Bucket size (commerce default: 40).")] = None,
    hang_ms: Annotated[int | None, typer.Option(help="How long a timed-out call hangs.")] = None,
    timeout_phase: Annotated[
        str | None, typer.Option(help="before (call lost), after (answer lost) or either.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed, for the same sequence of failures each run.")
    ] = None,
) -> None:
    """Change the given fault options of one simulator; the others keep their values."""
    url = _targets(name)[name] + "/_admin/faults"
    config = _call("GET", url)
    given: dict[str, Any] = {
        "error_rate": error_rate,
        "timeout_rate": timeout_rate,
        "latency_ms": latency_ms,
        "burst": burst,
        "hang_ms": hang_ms,
        "timeout_phase": timeout_phase,
        "seed": seed,
    }
    config.update({key: value for key, value in given.items() if value is not None})
    if rate_limit is not None:
        config["rate_limit_per_s"] = None if rate_limit == 0 else rate_limit
    typer.echo(_describe(name, _call("PUT", url, config)))


@app.command("show")
def show(
    name: Annotated[str | None, typer.Argument(help="One simulator; all when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the configs as JSON.")] = False,
) -> None:
    """Print the fault config of one simulator or all."""
    configs = {sim: _call("GET", url + "/_admin/faults") for sim, url in _targets(name).items()}
    if as_json:
        typer.echo(json.dumps(configs, indent=2))
        return
    for sim, config in configs.items():
        typer.echo(_describe(sim, config))


@app.command("clear")
def clear(
    name: Annotated[str | None, typer.Argument(help="One simulator; all when omitted.")] = None,
) -> None:
    """Remove every fault (and rate limit) from one simulator or all."""
    for sim, url in _targets(name).items():
        typer.echo(_describe(sim, _call("PUT", url + "/_admin/faults", {})))
