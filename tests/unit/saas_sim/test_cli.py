"""``sagawatch faults set|show|clear`` against simulators published in a stack file in tmp."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sagawatch.cli import app
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def stack(home: Path, urls: dict[str, str]) -> dict[str, str]:
    """A stack file naming this process (alive) and the test's simulators."""
    StackInfo(
        pid=os.getpid(),
        started_at="2026-01-01T00:00:00+00:00",
        region="us-east-1",
        aws_endpoint="http://127.0.0.1:1",
        api_endpoint="http://127.0.0.1:2",
        otlp_endpoint="http://127.0.0.1:3",
        aurora_url="postgresql://localhost/aurora",
        audit_url="postgresql://localhost/audit",
        saas=urls,
    ).write(home / "stack.json")
    return urls


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["faults", *args])
    return result.exit_code, result.output


def test_set_changes_only_the_given_options(stack: dict[str, str], client: httpx.Client) -> None:
    code, out = _run("set", "support", "--error-rate", "0.3", "--seed", "42")
    assert code == 0, out
    assert "error_rate=0.3" in out and "seed=42" in out
    code, out = _run("set", "support", "--latency-ms", "25", "--rate-limit", "5")
    assert code == 0, out
    config = client.get(f"{stack['support']}/_admin/faults").json()
    assert config["error_rate"] == 0.3 and config["seed"] == 42
    assert config["latency_ms"] == 25 and config["rate_limit_per_s"] == 5.0
    _run("set", "support", "--rate-limit", "0")
    assert client.get(f"{stack['support']}/_admin/faults").json()["rate_limit_per_s"] is None


def test_show_and_clear(stack: dict[str, str], client: httpx.Client) -> None:
    _run("set", "commerce", "--timeout-rate", "0.2")
    code, out = _run("show", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert set(shown) == {"support", "commerce", "membership"}
    assert shown["commerce"]["timeout_rate"] == 0.2 and shown["support"]["timeout_rate"] == 0.0
    code, out = _run("show", "commerce")
    assert code == 0 and out.startswith("commerce") and "timeout_rate=0.2" in out
    code, out = _run("clear", "commerce")
    assert code == 0, out
    assert client.get(f"{stack['commerce']}/_admin/faults").json()["timeout_rate"] == 0.0


def test_an_invalid_value_is_refused_naming_the_field(stack: dict[str, str], client: httpx.Client) -> None:
    code, out = _run("set", "membership", "--error-rate", "2")
    assert code == 2 and "error_rate" in out
    assert client.get(f"{stack['membership']}/_admin/faults").json()["error_rate"] == 0.0


def test_an_unknown_simulator_is_named(stack: dict[str, str]) -> None:
    code, out = _run("set", "billing", "--error-rate", "0.1")
    assert code == 2
    assert "billing" in out and "commerce, membership, support" in out


def test_without_a_running_stack_it_says_so(home: Path) -> None:
    code, out = _run("show")
    assert code == 1 and "no stack is running" in out
