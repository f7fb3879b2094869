"""``sagawatch alarms test-pattern`` as a person runs it: a real subprocess of the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAGAWATCH = str(Path(sys.executable).parent / "sagawatch")


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SAGAWATCH, "alarms", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_prints_test_metric_filter_json_for_stdin() -> None:
    lines = '{"level": "ERROR", "message": "boom"}\n{"level": "INFO"}\n{"level": "ERROR"}\n'
    result = run("test-pattern", '{ $.level = "ERROR" }', "-", stdin=lines)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "matches": [
            {
                "eventNumber": 1,
                "eventMessage": '{"level": "ERROR", "message": "boom"}',
                "extractedValues": {},
            },
            {"eventNumber": 3, "eventMessage": '{"level": "ERROR"}', "extractedValues": {}},
        ]
    }


def test_reads_a_file_and_reports_extracted_values(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(
        '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534\n'
        '127.0.0.1 Prod frank [10/Oct/2000:13:25:16 -0700] "GET /index.html HTTP/1.0" 200 99\n'
    )
    result = run(
        "test-pattern", "[ip, user, username, timestamp, request, status_code = 4*, bytes]", str(log)
    )
    assert result.returncode == 0, result.stderr
    (match,) = json.loads(result.stdout)["matches"]
    assert match["eventNumber"] == 1
    assert match["extractedValues"]["$status_code"] == "404"
    assert match["extractedValues"]["$request"] == "GET /index.html HTTP/1.0"


def test_bad_pattern_exits_2_and_points_at_the_problem() -> None:
    result = run("test-pattern", "{ $.latency > fast }", "-", stdin="{}\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "needs an unquoted number" in result.stderr
    pattern_line, caret_line = result.stderr.splitlines()[-2:]
    assert caret_line.index("^") == pattern_line.index("fast")


def test_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    result = run("test-pattern", "ERROR", str(tmp_path / "nope.log"))
    assert result.returncode == 2
    assert "nope.log" in result.stderr


ALARM = {
    "AlarmName": "customer-saga-errors",
    "MetricName": "Errors",
    "Namespace": "sagawatch",
    "Statistic": "Sum",
    "Period": 60,
    "EvaluationPeriods": 3,
    "DatapointsToAlarm": 2,
    "Threshold": 1,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
}


def write(tmp_path: Path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return str(path)


def test_simulate_prints_state_and_reason(tmp_path: Path) -> None:
    points = [
        {"timestamp": "2026-11-24T05:57:10Z", "value": 1},
        {"timestamp": 1795499945, "value": 3},  # 2026-11-24T05:59:05Z as epoch seconds
        {"timestamp": "2026-11-24T06:00:05Z", "value": 9},  # the current, incomplete minute: not evaluated
    ]
    result = run(
        "simulate",
        "--alarm",
        write(tmp_path, "alarm.json", ALARM),
        "--datapoints",
        write(tmp_path, "points.json", points),
        "--at",
        "2026-11-24T06:00:30Z",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "StateValue": "ALARM",
        "StateReason": "Threshold Crossed: 2 out of the last 3 datapoints [3.0 (24/11/26 05:59:00), "
        "1.0 (24/11/26 05:57:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints "
        "for OK -> ALARM transition). No datapoints were received for 1 period and 1 missing datapoint was "
        "treated as [NonBreaching].",
    }


def test_simulate_names_bad_fields(tmp_path: Path) -> None:
    bad_alarm = ALARM | {"DatapointsToAlarm": 5, "Period": 45}
    result = run(
        "simulate",
        "--alarm",
        write(tmp_path, "alarm.json", bad_alarm),
        "--datapoints",
        write(tmp_path, "points.json", [{"timestamp": "yesterday", "value": 1}]),
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "Period: Value error, Period must be 10, 20, 30 or a multiple of 60 seconds" in result.stderr
    result = run(
        "simulate",
        "--alarm",
        write(tmp_path, "alarm2.json", ALARM),
        "--datapoints",
        write(tmp_path, "points.json", [{"timestamp": "yesterday", "value": 1}]),
    )
    assert result.returncode == 2
    assert "datapoints[0].timestamp" in result.stderr


def test_a_pattern_starting_with_a_minus_is_a_pattern_not_an_option() -> None:
    result = run("test-pattern", "-DEBUG", "-", stdin="ERROR x\nDEBUG y\nINFO z\n")
    assert result.returncode == 0, result.stderr
    assert [m["eventMessage"] for m in json.loads(result.stdout)["matches"]] == ["ERROR x", "INFO z"]


def test_simulate_composite(tmp_path: Path) -> None:
    composite = {"AlarmName": "saga-degraded", "AlarmRule": 'ALARM("errors") AND NOT OK("dlq-depth")'}
    states = {"errors": "ALARM", "dlq-depth": "INSUFFICIENT_DATA"}
    args = ["--alarm", write(tmp_path, "c.json", composite), "--states", write(tmp_path, "s.json", states)]
    result = run("simulate-composite", *args)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "StateValue": "ALARM",
        "StateReason": "AlarmRule evaluated to TRUE (dlq-depth=INSUFFICIENT_DATA, errors=ALARM).",
    }
    missing = run(
        "simulate-composite", "--alarm", args[1], "--states", write(tmp_path, "t.json", {"errors": "OK"})
    )
    assert missing.returncode == 2 and "dlq-depth" in missing.stderr
