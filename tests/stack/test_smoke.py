"""``sagawatch up --smoke``: the operator's one-command proof that the stack works end to end."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.stack.conftest import REPO, SAGAWATCH, stack_env

pytestmark = pytest.mark.slow

CHECKS = ("aws", "databases", "saas", "api", "logs", "traces", "collected")


def test_smoke_passes_every_named_check_and_exits_zero(tmp_path: Path) -> None:
    result = subprocess.run(
        [*SAGAWATCH, "up", "--smoke"],
        cwd=REPO,
        env=stack_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for check in CHECKS:
        assert re.search(rf"^ok   {check} \(", result.stdout, re.MULTILINE), f"no passing {check!r} line"
    assert f"smoke: {len(CHECKS)} passed, 0 failed" in result.stdout
    # The log line and the spans are tied together by one trace id, printed by both checks.
    trace_ids = re.findall(r"trace(?:_id)? ([0-9a-f]{32})", result.stdout)
    assert len(trace_ids) == 2 and trace_ids[0] == trace_ids[1], result.stdout
    # It stops after checking: nothing is left running or published.
    assert not (tmp_path / "home" / "stack.json").exists()


def test_smoke_fails_with_a_named_check_when_the_audit_store_is_unreachable(tmp_path: Path) -> None:
    env = stack_env(tmp_path / "home")
    env["AUDIT_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"
    result = subprocess.run(
        [*SAGAWATCH, "up", "--smoke"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stdout + result.stderr
    # One line that names the part and the cause, not a traceback.
    assert "sagawatch up: could not start the aurora schema: OperationalError" in result.stderr
    assert "Connection refused" in result.stderr
    assert "Traceback" not in result.stderr
