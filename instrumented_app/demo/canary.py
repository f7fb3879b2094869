"""``sagawatch demo canary``: a defective v2 of the customer read API caught by the judge, then rolled back.

The customer read API (``GET /customers/{cust_no}``, function
``sw-customer-read``) runs as version 1 and version 2 behind the alias
``live``, 95/5. The demo creates a customer, reads it through the API front at
the alias's weights and counts which version answered; then, as an operator
short of time would, sends half the traffic to the canary so the judge has
enough samples, runs ``sagawatch canary judge`` on what CloudWatch holds, and
rolls the canary back with ``sagawatch canary rollback``. It ends by reading
again: every answer now comes from version 1.

The ``sagawatch canary`` commands run as the operator runs them (a separate
process), pointed at this stack: the app and the audit side meet only there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from instrumented_app.demo.customer_saga import customer
from instrumented_app.handlers.canary_release import ALIAS, DEFECT_RATE_ENV, FUNCTION, VERSION_HEADER
from sagawatch.aws import aws_session
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

#: Requests per phase: at 5 % about 8 reach the canary; at 50 % about 80 (the judge wants 20 a side).
READS = 160
JUDGE_WEIGHT = 0.5
#: Longer than the runtime's alias cache (1 s): after this, requests follow the alias's new routing.
ROUTING_SETTLES_S = 1.5
FAILED = "failed"


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    correlation_id = f"demo-canary-{uuid.uuid4().hex[:12]}"
    cust_no = f"CAN{uuid.uuid4().hex[:8].upper()}"
    lam = aws_session(stack.region, stack.aws_endpoint).client("lambda", endpoint_url=stack.aws_endpoint)
    with httpx.Client(base_url=stack.api_endpoint, timeout=30, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        created = http.post("/customers", json=customer(cust_no))
        say(f"POST /customers {cust_no} -> {created.status_code} (the row the canary reads)")
        if created.status_code != 201:
            return False
        state = _status(stack, say)
        if state is None:
            return False
        if state["canary_version"] is None:
            redeployed = _redeploy(stack, lam, state, say)
            if redeployed is None:
                return False
            state = {**state, "canary_version": redeployed, "canary_weight": 0.05}
        canary = str(state["canary_version"])
        rate = _defect_rate(lam, canary)
        say(f"version {canary} is configured with {DEFECT_RATE_ENV}={rate}")

        split = _reads(http, cust_no, READS)
        say(f"{READS} reads at {state['canary_weight']:.0%} canary weight: {_describe(split)}")
        if not _cli(stack, say, "canary", "set", FUNCTION, "--weight", str(JUDGE_WEIGHT)):
            return False
        time.sleep(ROUTING_SETTLES_S)
        split = _reads(http, cust_no, READS)
        say(f"{READS} reads at {JUDGE_WEIGHT:.0%} canary weight: {_describe(split)}")

        judged = _cli(stack, say, "canary", "judge", FUNCTION, "--minutes", "15", accept=(0, 1, 3))
        verdict = _verdict(judged)
        say(f"the judge's verdict: {verdict}")
        rolled_back = _cli(stack, say, "canary", "rollback", FUNCTION) is not None
        time.sleep(ROUTING_SETTLES_S)
        after = _reads(http, cust_no, READS // 4)
        say(f"{READS // 4} reads after the rollback: {_describe(after)}")
    say(f"logs: /aws/lambda/{FUNCTION} (streams per version: [1]..., [{canary}]...)")
    say(f"metrics: namespace sagawatch, service {FUNCTION}, dimension version; trace: {correlation_id}")
    expected = "FAIL" if rate > 0 else "PASS"
    if verdict != expected:
        say(f"expected {expected} for a canary failing {rate:.0%} of its invocations")
    return verdict == expected and rolled_back and set(after) == {state["primary_version"]}


def _reads(http: httpx.Client, cust_no: str, count: int) -> Counter[str]:
    """``count`` reads; answers counted by the version that served them, failures as ``failed``."""
    seen: Counter[str] = Counter()
    for _ in range(count):
        answer = http.get(f"/customers/{cust_no}")
        seen[answer.headers.get(VERSION_HEADER, FAILED) if answer.status_code == 200 else FAILED] += 1
    return seen


def _describe(split: Counter[str]) -> str:
    parts = [f"v{v} {n}" for v, n in sorted(split.items()) if v != FAILED]
    if split[FAILED]:
        parts.append(f"failed {split[FAILED]} (502: the canary's injected defect)")
    return ", ".join(parts)


def _status(stack: StackInfo, say: Callable[[str], None]) -> dict[str, Any] | None:
    shown = _cli(stack, say, "canary", "status", FUNCTION, "--json", echo=False)
    if shown is None:
        return None
    state: dict[str, Any] = json.loads(shown)
    weight = f"{state['canary_weight']:.0%}" if state["canary_version"] else "none"
    say(f"alias {ALIAS}: version {state['primary_version']}, canary {state['canary_version']} at {weight}")
    return state


def _redeploy(stack: StackInfo, lam: Any, state: dict[str, Any], say: Callable[[str], None]) -> str | None:
    """The alias has no canary (an earlier run rolled it back): route 5 % to the newest other version.

    Returns that version, or None when there is none or the command failed."""
    versions = lam.list_versions_by_function(FunctionName=FUNCTION)["Versions"]
    numbers = sorted(int(v["Version"]) for v in versions if v["Version"].isdigit())
    others = [n for n in numbers if str(n) != state["primary_version"]]
    if not others:
        say(f"{FUNCTION} has no version besides {state['primary_version']}: nothing to release")
        return None
    version = str(others[-1])
    say(f"no canary routed (an earlier run rolled it back): version {version} gets 5 % again")
    done = _cli(stack, say, "canary", "set", FUNCTION, "--weight", "0.05", "--version", version)
    if done is None:
        return None
    time.sleep(ROUTING_SETTLES_S)
    return version


def _defect_rate(lam: Any, version: str) -> float:
    config = lam.get_function_configuration(FunctionName=FUNCTION, Qualifier=version)
    variables = (config.get("Environment") or {}).get("Variables") or {}
    return float(variables.get(DEFECT_RATE_ENV) or 0)


def _verdict(output: str | None) -> str:
    found = re.search(r"^verdict (\w+)", output or "", re.MULTILINE)
    return found.group(1) if found else "unknown"


def _cli(
    stack: StackInfo,
    say: Callable[[str], None],
    *args: str,
    accept: tuple[int, ...] = (0,),
    echo: bool = True,
) -> str | None:
    """Run ``sagawatch ARGS`` against ``stack``; its output (echoed), or None when it exited otherwise."""
    say(f"$ sagawatch {' '.join(args)}")
    env = dict(os.environ)
    running = StackInfo.read(get_settings().stack_file)
    with tempfile.TemporaryDirectory(prefix="sagawatch-demo-") as home:
        if running is None or running.aws_endpoint != stack.aws_endpoint:
            # Called with a stack other than the one the settings point at (a test's): point the CLI at it.
            stack.write(Path(home) / "stack.json")
            env["SAGAWATCH_HOME"] = home
        done = subprocess.run(
            [sys.executable, "-m", "sagawatch", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if echo:
        for line in done.stdout.splitlines():
            say(f"  {line}")
    if done.returncode not in accept:
        say(f"  exit {done.returncode}: {done.stderr.strip()[-500:]}")
        return None
    return done.stdout
