"""``sagawatch canary ...`` as an operator runs it: the console script, finding moto through stack.json."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sagawatch.stack_info import StackInfo
from tests.unit.canary.aws_world import REGION, Aws, invocation_lines, lambda_stream

SAGAWATCH = str(Path(sys.executable).parent / "sagawatch")


@pytest.fixture
def home(tmp_path: Path, aws: Aws) -> Path:
    """A state directory whose stack.json names this process (alive) and the moto server."""
    StackInfo(
        pid=os.getpid(),
        started_at=datetime.now(UTC).isoformat(),
        region=REGION,
        aws_endpoint=aws.endpoint,
        api_endpoint="http://127.0.0.1:9",
        otlp_endpoint="http://127.0.0.1:9",
        aurora_url="postgresql://unused",
        audit_url="postgresql://unused",
    ).write(tmp_path / "stack.json")
    return tmp_path


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAGAWATCH_HOME": str(home), "SAGAWATCH_OPERATOR": "carol"}
    return subprocess.run(
        [SAGAWATCH, "canary", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def reject_non_json(constant: str) -> None:
    raise AssertionError(f"not JSON: {constant}")


def seed_invocations(aws: Aws, function: str, version: str, count: int, failing: int, ms: float) -> None:
    group = f"/aws/lambda/{function}"
    with contextlib.suppress(aws.logs.exceptions.ResourceAlreadyExistsException):
        aws.logs.create_log_group(logGroupName=group)
    lines = [
        line
        for n in range(count)
        for line in invocation_lines(f"{function}-{version}-{n}", ms + (n % 7), failed=n < failing)
    ]
    lambda_stream(
        aws, group, version, f"{version}{'0' * 31}", lines, datetime.now(UTC) - timedelta(minutes=2)
    )


def test_status_set_and_rollback_print_what_changed(home: Path, aws: Aws) -> None:
    aws.canary_function("cli-fn")

    status = run(home, "status", "cli-fn", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["canary_weight"] == 0.05

    changed = run(home, "set", "cli-fn", "--weight", "0.3", "--json")
    assert changed.returncode == 0, changed.stderr
    record = json.loads(changed.stdout)
    assert (record["who"], record["what"]) == ("carol", "set_weight")
    assert record["after"]["canary_weight"] == 0.3

    rolled = run(home, "rollback", "cli-fn")
    assert rolled.returncode == 0, rolled.stderr
    assert "rollback by carol" in rolled.stdout
    assert "now: cli-fn:live -> version 1 (100%), no canary" in rolled.stdout
    assert aws.lambda_.get_alias(FunctionName="cli-fn", Name="live")["RoutingConfig"] in (
        None,
        {"AdditionalVersionWeights": {}},
    )


def test_a_bad_weight_exits_2_naming_the_option_and_changes_nothing(home: Path, aws: Aws) -> None:
    aws.canary_function("cli-bad-weight")
    result = run(home, "set", "cli-bad-weight", "--weight", "1.5")
    assert result.returncode == 2
    assert "weight: must be from 0 to 1" in result.stderr
    assert run(home, "status", "cli-bad-weight").stdout.strip().endswith("canary version 2 (5.0%)")


def test_judge_fails_a_defective_canary_and_exits_1(home: Path, aws: Aws) -> None:
    aws.canary_function("cli-judge")
    seed_invocations(aws, "cli-judge", "1", count=400, failing=0, ms=30.0)
    seed_invocations(aws, "cli-judge", "2", count=60, failing=12, ms=30.0)

    text = run(home, "judge", "cli-judge", "--minutes", "10", "--publish")
    as_json = run(home, "judge", "cli-judge", "--minutes", "10", "--json")

    assert text.returncode == 1, text.stderr
    assert "verdict FAIL" in text.stdout
    assert "error_rate" in text.stdout and "High" in text.stdout
    report = json.loads(as_json.stdout, parse_constant=reject_non_json)
    assert report["source"] == "cloudwatch-logs"
    assert report["result"]["verdict"] == "FAIL"
    assert [(v["version"], v["invocations"], v["errors"]) for v in report["versions"]] == [
        ("1", 400, 0),
        ("2", 60, 12),
    ]
    # Errors only in the canary: an infinite ratio, written so that any JSON reader accepts it.
    assert report["result"]["metrics"][0]["effect_size"] == "Infinity"
    # The standard alarm's metric: canary error rate 12/60 minus baseline 0/400.
    assert "CanaryErrorRateDelta published: +0.2000" in text.stderr
    stats = aws.cloudwatch.get_metric_statistics(
        Namespace="sagawatch/audit",
        MetricName="CanaryErrorRateDelta",
        Dimensions=[{"Name": "FunctionName", "Value": "cli-judge"}],
        StartTime=datetime.now(UTC) - timedelta(minutes=5),
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [round(point["Maximum"], 4) for point in stats] == [0.2]


def test_judge_with_too_few_canary_invocations_says_so_and_exits_3(home: Path, aws: Aws) -> None:
    aws.canary_function("cli-sparse")
    seed_invocations(aws, "cli-sparse", "1", count=200, failing=0, ms=30.0)
    seed_invocations(aws, "cli-sparse", "2", count=4, failing=0, ms=30.0)

    result = run(home, "judge", "cli-sparse", "--minutes", "10")

    assert result.returncode == 3, result.stderr
    assert "verdict NOT_ENOUGH_DATA" in result.stdout
    assert "baseline 200 and canary 4 samples, at least 20 each needed" in result.stdout


def test_judge_without_a_canary_is_refused_plainly(home: Path, aws: Aws) -> None:
    aws.canary_function("cli-no-canary", weight=None)
    result = run(home, "judge", "cli-no-canary")
    assert result.returncode == 2
    assert "no canary: nothing to judge" in result.stderr
