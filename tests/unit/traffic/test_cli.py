"""``sagawatch traffic``: every option checked before anything is sent, the error naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sagawatch.cli import app
from sagawatch.settings import get_settings


@pytest.fixture(autouse=True)
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGAWATCH_HOME", str(tmp_path / "no-stack"))
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--sagas", "10", "--duration", "5"], "--duration"),
        (["--rate", "0"], "--rate"),
        (["--rate", "100000"], "--rate"),
        (["--duration", "0.5"], "--duration"),
        (["--bad-input-share", "1.5"], "--bad-input-share"),
        (["--async-share", "-0.1"], "--async-share"),
        (["--sagas", "0"], "--sagas"),
        (["--concurrency", "0"], "--concurrency"),
    ],
)
def test_a_bad_option_exits_2_naming_it(args: list[str], named: str) -> None:
    result = CliRunner().invoke(app, ["traffic", *args])
    assert result.exit_code == 2, result.output
    assert named in result.output


def test_valid_options_without_a_stack_say_how_to_start_one() -> None:
    result = CliRunner().invoke(
        app, ["traffic", "--duration", "5", "--rate", "2", "--bad-input-share", "0.1"]
    )
    assert result.exit_code == 1
    assert "sagawatch up" in result.output
