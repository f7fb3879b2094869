"""``sagawatch up`` as an operator runs it: start, inspect, refuse a second start, stop on SIGTERM.

One stack serves the module, in order: it is inspected, a second ``up`` is refused
beside it, and the last test stops it with SIGTERM and starts again on the same data.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.stack.conftest import REPO, SAGAWATCH, RunningStack, module_stack, start_stack, stop_stack

pytestmark = pytest.mark.slow


running_stack = module_stack("lifecycle")


def _status(stack: RunningStack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAGAWATCH, "status", "--json"], cwd=REPO, env=stack.env(), capture_output=True, text=True
    )


def test_status_prints_the_running_stacks_endpoints(running_stack: RunningStack) -> None:
    result = _status(running_stack)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["running"] is True
    assert status["aws_endpoint"].startswith("http://127.0.0.1:")
    assert status["aws_endpoint"] == running_stack.info["aws_endpoint"]


def test_a_second_up_says_a_stack_is_running_instead_of_failing_on_a_port(
    running_stack: RunningStack,
) -> None:
    result = subprocess.run(
        [*SAGAWATCH, "up"], cwd=REPO, env=running_stack.env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert "already running" in result.stderr
    assert str(running_stack.process.pid) in result.stderr
    assert running_stack.process.poll() is None, "the first stack must keep running"


def test_sigterm_stops_everything_and_withdraws_the_stack_file(running_stack: RunningStack) -> None:
    code, output = stop_stack(running_stack)
    assert code == 0, output
    assert "stopping" in output and "stopped" in output
    assert not (running_stack.home / "stack.json").exists()
    status = _status(running_stack)
    assert status.returncode == 1
    assert json.loads(status.stdout) == {"running": False}
    # The state directory is reusable at once: a new stack starts on the same data.
    again = start_stack(running_stack.home)
    assert stop_stack(again)[0] == 0
