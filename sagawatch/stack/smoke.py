"""``sagawatch up --smoke``: prove the stack works end to end, one named check per line.

Each check is a function returning a short detail or raising ``SmokeFailure``;
the run goes on after a failure so that the operator sees every broken part at
once, and the exit code is 0 only if all passed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg

from sagawatch.aws import aws_session
from sagawatch.contracts.correlation import CORRELATION_ID_HEADER
from sagawatch.stack_info import StackInfo


class SmokeFailure(Exception):
    """A check did not hold; the message says what was seen instead."""


Check = Callable[[StackInfo], str]


def check_aws_answers(info: StackInfo) -> str:
    sts = aws_session(info.region, info.aws_endpoint).client("sts", endpoint_url=info.aws_endpoint)
    account = sts.get_caller_identity()["Account"]
    return f"moto answers at {info.aws_endpoint} (account {account})"


def check_databases_migrated(info: StackInfo) -> str:
    found = []
    for label, url in (("aurora", info.aurora_url), ("audit", info.audit_url)):
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        count = row[0] if row else 0
        if not count:
            raise SmokeFailure(f"{label}: no migration applied")
        found.append(f"{label} at migration {count}")
    return ", ".join(found)


def check_saas_simulators(info: StackInfo) -> str:
    if not info.saas:
        raise SmokeFailure("no SaaS simulator is published in stack.json")
    for name, url in info.saas.items():
        response = httpx.get(f"{url}/_admin/health", timeout=10)
        if response.status_code != 200:
            raise SmokeFailure(f"{name} at {url} answered {response.status_code} to /_admin/health")
    return ", ".join(f"{name} {url}" for name, url in info.saas.items())


class EndToEnd:
    """One request through the API front, then its traces in CloudWatch Logs and the audit store.

    The checks share what the request produced (its correlation id, the trace id
    its log line carries), so they are methods of one object, run in order.
    """

    PING_PATH = "/diagnostics/ping"

    def __init__(self, wait_s: float = 20.0) -> None:
        self.correlation_id = f"smoke-{uuid.uuid4().hex[:16]}"
        self.trace_id: str | None = None
        self._wait_s = wait_s

    def api(self, info: StackInfo) -> str:
        response = httpx.get(
            f"{info.api_endpoint}{self.PING_PATH}",
            headers={CORRELATION_ID_HEADER: self.correlation_id},
            timeout=30,
        )
        if response.status_code != 200:
            raise SmokeFailure(f"GET {self.PING_PATH} answered {response.status_code}: {response.text[:200]}")
        answered = response.json().get("correlation_id")
        if answered != self.correlation_id:
            raise SmokeFailure(f"the handler saw correlation id {answered!r}, sent {self.correlation_id!r}")
        return f"GET {self.PING_PATH} -> 200 through the API front, correlation id {self.correlation_id}"

    def logs(self, info: StackInfo) -> str:
        logs = aws_session(info.region, info.aws_endpoint).client("logs", endpoint_url=info.aws_endpoint)
        found: list[dict[str, Any]] = []
        for _ in _until(self._wait_s):
            found = list(_log_lines_with(logs, self.correlation_id))
            if found:
                break
        if not found:
            waited = f"{self._wait_s:.0f} s"
            raise SmokeFailure(
                f"no line with correlation_id {self.correlation_id} in /aws/lambda/* within {waited}"
            )
        group, line = found[0]["group"], found[0]["line"]
        self.trace_id = line.get("trace_id") or None
        return f"{len(found)} line(s) in {group} with correlation_id, trace_id {self.trace_id}"

    def traces(self, info: StackInfo) -> str:
        if not self.trace_id:
            raise SmokeFailure("the log line carried no trace_id to look for")
        rows: list[tuple[str, int]] = []
        for _ in _until(self._wait_s):
            with psycopg.connect(info.audit_url, connect_timeout=5) as conn:
                rows = [
                    (str(r[0]), int(r[1]))
                    for r in conn.execute(
                        "SELECT trace_id, count(*) FROM spans WHERE correlation_id = %s GROUP BY trace_id",
                        (self.correlation_id,),
                    )
                ]
            if rows:
                break
        if not rows:
            raise SmokeFailure(f"no span with correlation_id {self.correlation_id} in the audit store")
        traces = {trace for trace, _ in rows}
        if traces != {self.trace_id}:
            raise SmokeFailure(
                f"spans are under trace(s) {sorted(traces)}, the log line under {self.trace_id}"
            )
        return f"{sum(n for _, n in rows)} span(s) in the audit store under trace {self.trace_id}"

    def collected(self, info: StackInfo) -> str:
        """The collectors run on their own schedule; the line must reach the audit store by itself."""
        count = 0
        for _ in _until(self._wait_s):
            with psycopg.connect(info.audit_url, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM log_lines WHERE correlation_id = %s", (self.correlation_id,)
                ).fetchone()
            count = int(row[0]) if row else 0
            if count:
                break
        if not count:
            raise SmokeFailure(
                f"the collectors did not bring the log line into the audit store in {self._wait_s:.0f} s"
            )
        return f"{count} line(s) with correlation_id in the audit store's log_lines (collectors running)"


def default_checks() -> list[tuple[str, Check]]:
    end_to_end = EndToEnd()
    return [
        ("aws", check_aws_answers),
        ("databases", check_databases_migrated),
        ("saas", check_saas_simulators),
        ("api", end_to_end.api),
        ("logs", end_to_end.logs),
        ("traces", end_to_end.traces),
        ("collected", end_to_end.collected),
    ]


def _until(wait_s: float, interval_s: float = 0.25) -> Iterator[int]:
    """Yield attempts until ``wait_s`` has passed (at least one attempt)."""
    deadline = time.monotonic() + wait_s
    attempt = 0
    while True:
        yield attempt
        attempt += 1
        if time.monotonic() >= deadline:
            return
        time.sleep(interval_s)


def _log_lines_with(logs: Any, correlation_id: str) -> Iterator[dict[str, Any]]:
    """JSON log lines carrying ``correlation_id`` in every ``/aws/lambda/`` group."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/"):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            for event_page in logs.get_paginator("filter_log_events").paginate(logGroupName=name):
                for event in event_page["events"]:
                    try:
                        line = json.loads(event["message"])
                    except (json.JSONDecodeError, TypeError):
                        continue
                    if isinstance(line, dict) and line.get("correlation_id") == correlation_id:
                        yield {"group": name, "line": line}


def run_smoke(
    info: StackInfo, say: Callable[[str], None], checks: list[tuple[str, Check]] | None = None
) -> int:
    chosen = checks if checks is not None else default_checks()
    failed = 0
    for name, check in chosen:
        started = time.monotonic()
        try:
            detail = check(info)
        except Exception as exc:  # a smoke run reports every failure rather than stopping at the first
            failed += 1
            say(f"FAIL {name} ({time.monotonic() - started:.1f} s): {type(exc).__name__}: {exc}")
        else:
            say(f"ok   {name} ({time.monotonic() - started:.1f} s): {detail}")
    say(f"smoke: {len(chosen) - failed} passed, {failed} failed")
    return 1 if failed else 0
