"""Customer sagas through the API front: sagas per second with SaaS latency 0 and 50 ms, and the time a
saga spends in the orchestrator itself (excluding SaaS calls) at p50/p99.

Starts ``sagawatch up`` in a temporary home (or uses the stack of ``--home``),
sets every SaaS simulator's ``latency_ms`` through its fault switch, and drives
``--sagas`` direct ``POST /customers`` at ``--concurrency`` with the traffic
generator. The orchestrator's own time of a saga is its wall time in Aurora
(``saga.updated_at - saga.started_at``) minus the durations of its SaaS client
spans (``support ...``, ``commerce ...``, ``membership ...``) in the audit
store; the saga calls them one after another, so the difference is the time
spent in the saga code, Aurora writes included. Prints, asserts nothing.

    .venv/bin/python bench/bench_sagas.py [--sagas 60] [--concurrency 8] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from instrumented_app.traffic import drive, plan_traffic

REPO = Path(__file__).resolve().parents[1]
SAAS_CALL_PREFIXES = ("support", "commerce", "membership")


@contextmanager
def stack(home: Path | None) -> Iterator[dict[str, Any]]:
    """The stack of ``home`` if one runs there; else a new ``sagawatch up`` in a temporary home."""
    if home is not None:
        yield json.loads((home / "stack.json").read_text())
        return
    with tempfile.TemporaryDirectory(prefix="bench-sagas-") as tmp:
        stack_file = Path(tmp) / "stack.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAWATCH_")}
        env.update(SAGAWATCH_HOME=tmp, PYTHONUNBUFFERED="1")
        for name in ("DATABASE_URL", "AUDIT_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            env.pop(name, None)
        process = subprocess.Popen(
            [sys.executable, "-m", "sagawatch", "up"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not stack_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("sagawatch up did not start")
                time.sleep(0.2)
            time.sleep(0.2)
            yield json.loads(stack_file.read_text())
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def set_latency(info: dict[str, Any], latency_ms: int) -> None:
    for url in info["saas"].values():
        httpx.put(f"{url}/_admin/faults", json={"latency_ms": latency_ms}, trust_env=False).raise_for_status()


def orchestrator_ms(info: dict[str, Any], run_id: str, expected: int, timeout_s: float = 30) -> list[float]:
    """Per SUCCEEDED saga of the run: its wall time minus its SaaS calls, once all its spans arrived."""
    pattern = f"traffic-{run_id}-%"
    with psycopg.connect(info["aurora_url"]) as conn:
        walls: dict[str, Any] = dict(
            conn.execute(
                "SELECT correlation_id, extract(epoch FROM updated_at - started_at) * 1000 FROM saga "
                "WHERE correlation_id LIKE %s AND status = 'SUCCEEDED'",
                (pattern,),
            ).fetchall()
        )
    deadline = time.monotonic() + timeout_s
    saas: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with psycopg.connect(info["audit_url"]) as conn:
            # Six SaaS calls per saga: find + create in support, commerce and membership.
            saas = dict(
                conn.execute(
                    "SELECT correlation_id, sum(duration_ms) FROM spans WHERE correlation_id LIKE %s "
                    "AND split_part(name, ' ', 1) = ANY(%s) GROUP BY correlation_id HAVING count(*) >= 6",
                    (pattern, list(SAAS_CALL_PREFIXES)),
                ).fetchall()
            )
        if len(saas) >= min(expected, len(walls)):
            break
        time.sleep(1.0)
    return sorted(float(walls[c]) - float(saas[c]) for c in walls if c in saas)


def percentile(samples: list[float], fraction: float) -> float:
    return samples[min(len(samples) - 1, int(fraction * len(samples)))] if samples else float("nan")


def run(info: dict[str, Any], latency_ms: int, sagas: int, concurrency: int) -> None:
    set_latency(info, latency_ms)
    run_id = uuid.uuid4().hex[:8]
    plan = plan_traffic(sagas, run_id=run_id, async_share=0.0, duplicate_share=0.0)
    report = drive(info["api_endpoint"], plan, concurrency=concurrency)
    set_latency(info, 0)
    latencies = sorted(o.elapsed_s * 1000 for o in report.outcomes)
    own = orchestrator_ms(info, run_id, sagas)
    print(
        f"SaaS latency {latency_ms:3d} ms: {report.sagas_per_second:6.2f} sagas/s "
        f"({sagas} sagas, concurrency {concurrency}, {report.by_status()}); "
        f"request p50 {percentile(latencies, 0.5):.0f} ms p99 {percentile(latencies, 0.99):.0f} ms; "
        f"orchestrator own time p50 {percentile(own, 0.5):.1f} ms p99 {percentile(own, 0.99):.1f} ms "
        f"(mean {statistics.fmean(own) if own else float('nan'):.1f} ms over {len(own)} sagas)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sagas", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--home", type=Path, default=None, help="Use the stack running in this home.")
    args = parser.parse_args()
    with stack(args.home) as info:
        # One warm-up saga per environment so first-call imports are not counted.
        drive(info["api_endpoint"], plan_traffic(4, run_id="warm" + uuid.uuid4().hex[:6]), concurrency=4)
        for latency_ms in (0, 50):
            run(info, latency_ms, args.sagas, args.concurrency)
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
