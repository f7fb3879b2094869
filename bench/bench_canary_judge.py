"""How long a canary judgement takes, and how fast Lambda's REPORT lines are read into samples.

Judges a defective canary (20 % errors, 10 % slower) against a healthy baseline with the default
metrics at several sample counts (per-invocation samples: a 5 % canary of N invocations has N/20),
and parses synthetic log streams into per-invocation samples. The dashboard re-judges on every
refresh, so the judgement at a day of traffic should stay well under a second. Prints, never asserts.

    .venv/bin/python bench/bench_canary_judge.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import random
import time
from collections.abc import Callable

from alarms.canary.judge import default_config, judge
from alarms.canary.report_lines import invocations_in_stream


def _samples(rng: random.Random, n: int, error_rate: float, median_ms: float) -> dict[str, list[float]]:
    return {
        "error_rate": [1.0 if rng.random() < error_rate else 0.0 for _ in range(n)],
        "duration_ms": [rng.lognormvariate(0.0, 0.3) * median_ms for _ in range(n)],
    }


def _stream(rng: random.Random, invocations: int) -> list[str]:
    lines: list[str] = []
    for n in range(invocations):
        request = f"{n:08x}-0000-4000-8000-000000000000"
        lines.append(f"START RequestId: {request} Version: 2")
        lines.append('{"level":"INFO","message":"handled","correlation_id":"c-1"}')
        if rng.random() < 0.05:
            lines.append("[ERROR] RuntimeError: boom\rTraceback (most recent call last):")
        lines.append(f"END RequestId: {request}")
        lines.append(
            f"REPORT RequestId: {request}\tDuration: {rng.uniform(1, 90):.2f} ms\tBilled Duration: 91 ms"
            "\tMemory Size: 128 MB\tMax Memory Used: 60 MB"
        )
    return lines


def _count(lines: list[str]) -> int:
    return sum(1 for _ in invocations_in_stream(lines))


def _best_of(repeat: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is printed")
    args = parser.parse_args()
    rng = random.Random(1)
    config = default_config()

    print("judge (default metrics; baseline 1 % errors, canary 20 % errors and 10 % slower)")
    print(f"  {'baseline n':>11} {'canary n':>9} {'verdict':>16} {'best ms':>9}")
    for invocations in (1_000, 20_000, 200_000, 1_000_000):
        baseline = _samples(rng, invocations - invocations // 20, 0.01, 40.0)
        canary = _samples(rng, invocations // 20, 0.20, 44.0)
        verdict = judge(config, baseline, canary).verdict.value
        best = _best_of(args.repeat, functools.partial(judge, config, baseline, canary))
        sizes = f"{len(baseline['error_rate']):>11,} {len(canary['error_rate']):>9,}"
        print(f"  {sizes} {verdict:>16} {best * 1000:>9.1f}")

    print("REPORT lines -> per-invocation samples")
    for invocations in (10_000, 100_000):
        lines = _stream(rng, invocations)
        best = _best_of(args.repeat, functools.partial(_count, lines))
        what = f"{invocations:>9,} invocations ({len(lines):,} lines)"
        print(f"  {what}: {best * 1000:8.1f} ms, {len(lines) / best:,.0f} lines/s")


if __name__ == "__main__":
    main()
