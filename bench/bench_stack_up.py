"""Cold start of ``sagawatch up``: seconds from launch until the stack is ready to serve.

"Ready" is the moment ``stack.json`` appears (every part started and every
resource provisioned), and then the first answer of the API front when the
stack has one. Each run uses a fresh state directory, so PostgreSQL's initdb
is included: that is what a new operator waits for. Target: under 15 s.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

RUNS = 3
REPO = Path(__file__).resolve().parents[1]


def one_run(home: Path) -> tuple[float, float | None, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAWATCH_")}
    env["SAGAWATCH_HOME"] = str(home)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "sagawatch", "up"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack_file = home / "stack.json"
    try:
        while not stack_file.exists():
            if process.poll() is not None:
                raise SystemExit(f"sagawatch up exited {process.returncode} before it was ready")
            if time.perf_counter() - started > 120:
                raise SystemExit("sagawatch up was not ready within 120 s")
            time.sleep(0.02)
        ready = time.perf_counter() - started
        first_answer: float | None = None
        api = json.loads(stack_file.read_text()).get("api_endpoint")
        if api:
            with httpx.Client(timeout=30) as client:
                client.get(f"{api}/diagnostics/ping")
            first_answer = time.perf_counter() - started
    finally:
        stop_started = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        stopped = time.perf_counter() - stop_started
    return ready, first_answer, stopped


def main() -> None:
    results = []
    for run in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            ready, first, stopped = one_run(Path(tmp) / "home")
        results.append((ready, first, stopped))
        first_text = f"{first:.2f} s" if first is not None else "n/a (no API)"
        print(f"run {run + 1}: ready {ready:.2f} s, first API answer {first_text}, stop {stopped:.2f} s")
    median_ready = statistics.median(r[0] for r in results)
    print(f"sagawatch up cold start, median of {RUNS}: {median_ready:.2f} s (target < 15 s)")
    firsts = [r[1] for r in results if r[1] is not None]
    if firsts:
        print(f"first API answer (cold Lambda included), median: {statistics.median(firsts):.2f} s")


if __name__ == "__main__":
    main()
