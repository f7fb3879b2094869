"""Fixtures for tests that run ``sagawatch up`` as an operator does: a real process, a state directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAGAWATCH = [sys.executable, "-m", "sagawatch"]


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    home: Path
    info: dict[str, object]

    def env(self) -> dict[str, str]:
        return stack_env(self.home)

    def saas_urls(self) -> dict[str, str]:
        """Each SaaS simulator's base URL, by system name, as ``stack.json`` publishes them."""
        return {str(name): str(url) for name, url in dict(self.info["saas"]).items()}  # type: ignore[call-overload]


def stack_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAWATCH_")}
    for name in ("DATABASE_URL", "AUDIT_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        env.pop(name, None)
    env["SAGAWATCH_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_stack(
    home: Path, *args: str, timeout_s: float = 60.0, env: Mapping[str, str] | None = None
) -> RunningStack:
    """Start ``sagawatch up`` (``env`` added to its environment); wait, bounded, for its stack file."""
    process = subprocess.Popen(
        [*SAGAWATCH, "up", *args],
        cwd=REPO,
        env={**stack_env(home), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack_file = home / "stack.json"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"sagawatch up exited {process.returncode} before it was ready:\n{output}")
        if stack_file.exists():
            try:
                return RunningStack(process, home, json.loads(stack_file.read_text()))
            except json.JSONDecodeError:
                pass  # written atomically, but be patient with a racing reader anyway
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"sagawatch up did not publish {stack_file} within {timeout_s} s")


def stop_stack(stack: RunningStack, timeout_s: float = 30.0) -> tuple[int, str]:
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
    try:
        output, _ = stack.process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        output, _ = stack.process.communicate()
        raise AssertionError(
            f"sagawatch up did not stop within {timeout_s} s after SIGTERM:\n{output}"
        ) from None
    return stack.process.returncode, output


def module_stack(
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    start_timeout_s: float = 60.0,
    stop_timeout_s: float = 30.0,
) -> Callable[..., Iterator[RunningStack]]:
    """A module-scoped fixture running one ``sagawatch up`` (``env`` added) for the module's tests.

    Starting a stack costs seconds, so a module shares one; a test that stops it (the lifecycle
    tests do) leaves nothing for the teardown to do. The bounds are ``start_stack``'s and
    ``stop_stack``'s unless a module needs longer.
    """

    @pytest.fixture(scope="module")
    def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
        home = tmp_path_factory.mktemp(name) / "home"
        running = start_stack(home, timeout_s=start_timeout_s, env=env)
        yield running
        if running.process.poll() is None:
            stop_stack(running, timeout_s=stop_timeout_s)

    return stack
