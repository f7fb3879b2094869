"""Lambda's own log lines, read into invocations: which request ran, how long, whether it failed.

Pure functions over the lines of one log stream. Both of Lambda's log formats are read:

* text: ``START RequestId: <id> Version: <v>`` ... ``REPORT RequestId: <id>\tDuration: 1.23 ms ...``,
  with ``\tStatus: error|timeout`` on the REPORT when the runtime failed or timed out; an unhandled
  exception is a ``[ERROR] Type: message`` line, a timeout a ``<time> <id> Task timed out after``
  line;
* JSON (``LoggingConfig.LogFormat: JSON``): ``{"type": "platform.start", "record": {"requestId"}}``
  and ``{"type": "platform.report", "record": {"requestId", "metrics": {"durationMs"}, "status"}}``,
  where any status but ``success`` is a failure; an unhandled exception is an object with
  ``errorType`` and ``errorMessage``.

A handled error that the function logs itself (``{"level": "ERROR", ...}``) is not a failed invocation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

_STREAM_VERSION = re.compile(r"^\d{4}/\d{2}/\d{2}/\[(?P<version>[^\]]+)\]")
_START = re.compile(r"^START RequestId: (?P<id>\S+)")
_REPORT = re.compile(r"^REPORT RequestId: (?P<id>\S+)\s+Duration: (?P<ms>[0-9.]+) ms")
_REPORT_FAILED = re.compile(r"\tStatus: (error|timeout)\b")
_TIMED_OUT = re.compile(r"^\S+ \S+ Task timed out after ")


def stream_version(stream_name: str) -> str | None:
    """The version in a Lambda log stream's name (``2026/11/24/[2]abc`` -> ``2``), None if not one."""
    match = _STREAM_VERSION.match(stream_name)
    return match.group("version") if match else None


def is_unhandled_error(line: str) -> bool:
    """A line the Lambda runtime writes for an invocation that failed (text or JSON log format)."""
    if line.startswith("[ERROR] ") or _TIMED_OUT.match(line):
        return True
    if line.startswith("{") and '"errorType"' in line:
        try:
            blob = json.loads(line)
        except ValueError:
            return False
        return isinstance(blob, dict) and "errorType" in blob and "errorMessage" in blob
    return False


@dataclass(frozen=True)
class Invocation:
    request_id: str
    duration_ms: float
    failed: bool


@dataclass(frozen=True)
class _Start:
    request_id: str


@dataclass(frozen=True)
class _Report:
    request_id: str
    duration_ms: float
    failed: bool


def _platform_json(line: str) -> _Start | _Report | None:
    """``platform.start`` / ``platform.report`` in Lambda's JSON log format, else None."""
    try:
        blob: Any = json.loads(line)
    except ValueError:
        return None
    record = blob.get("record") if isinstance(blob, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("requestId"), str):
        return None
    if blob.get("type") == "platform.start":
        return _Start(record["requestId"])
    if blob.get("type") == "platform.report":
        metrics = record.get("metrics")
        duration = metrics.get("durationMs") if isinstance(metrics, dict) else None
        if isinstance(duration, int | float):
            return _Report(record["requestId"], float(duration), record.get("status", "success") != "success")
    return None


def _platform_line(line: str) -> _Start | _Report | None:
    """START or REPORT in either log format; None for every other line."""
    if start := _START.match(line):
        return _Start(start.group("id"))
    if report := _REPORT.match(line):
        return _Report(report.group("id"), float(report.group("ms")), bool(_REPORT_FAILED.search(line)))
    if line.startswith("{") and '"platform.' in line:
        return _platform_json(line)
    return None


def invocations_in_stream(lines: Sequence[str]) -> Iterator[Invocation]:
    """Invocations in one stream's lines, in order. One environment runs one invocation at a time,
    so everything between START and REPORT belongs to that request; an incomplete one is skipped."""
    current: str | None = None
    failed = False
    for line in lines:
        event = _platform_line(line)
        if isinstance(event, _Start):
            current, failed = event.request_id, False
        elif isinstance(event, _Report):
            if event.request_id == current:
                yield Invocation(event.request_id, event.duration_ms, failed or event.failed)
            current, failed = None, False
        elif current is not None and is_unhandled_error(line):
            failed = True
