"""What the API front adds to one request: HTTP round trip through it vs calling the handler directly.

Starts an ``ApiFront`` on loopback over an in-process invoker whose handler
does almost nothing, sends sequential requests with one keep-alive
``httpx.Client``, and prints p50/p99 of both, the ratio and the milliseconds
added. The issue's target is under 5 ms p50 added per API request; this
script prints, it does not assert.

    .venv/bin/python bench/bench_api_front.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from typing import Any

import httpx

from instrumented_app.runtime.api_front import ApiFront, RouteTable
from instrumented_app.runtime.types import InvocationResult

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Bench"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
BODY = {
    "swagger": "2.0",
    "info": {"title": "bench"},
    "paths": {
        "/items/{id}": {
            "get": {
                "x-amazon-apigateway-integration": {
                    "type": "aws_proxy",
                    "uri": URI,
                }
            }
        }
    },
}


def handler(event: dict[str, Any]) -> dict[str, Any]:
    """Trivial: read the path parameter, answer JSON."""
    return {"statusCode": 200, "body": json.dumps({"id": event["pathParameters"]["id"]})}


class InProcessInvoker:
    """Calls ``handler`` in the calling thread: the baseline has no worker-process cost either."""

    def invoke(self, function_name: str, event: Any, *, qualifier: str | None = None) -> InvocationResult:
        started = time.perf_counter()
        payload = handler(event)
        return InvocationResult(
            function_name, "$LATEST", str(uuid.uuid4()), payload, None, (time.perf_counter() - started) * 1000
        )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()

    event = {"pathParameters": {"id": "42"}}
    direct_ms = []
    for _ in range(args.requests):
        started = time.perf_counter()
        handler(event)
        direct_ms.append((time.perf_counter() - started) * 1000)

    front = ApiFront(RouteTable.from_openapi(BODY, lambda value: value, "prod"), InProcessInvoker())
    front_ms = []
    with httpx.Client(base_url=front.start(), timeout=10) as client:
        for _ in range(50):  # warm-up: connection, imports, thread pool
            client.get("/items/42")
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get("/items/42")
            front_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"unexpected {response.status_code}: {response.text}")
    front.stop()

    print(f"API front round trip vs direct handler call, {args.requests} sequential requests")
    print(f"{'':8}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, samples in (("direct", direct_ms), ("front", front_ms)):
        mean = statistics.fmean(samples)
        print(f"{name:8}{percentile(samples, 0.5):>10.3f}{percentile(samples, 0.99):>10.3f}{mean:>10.3f}")
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        added = percentile(front_ms, fraction) - percentile(direct_ms, fraction)
        ratio = percentile(front_ms, fraction) / max(percentile(direct_ms, fraction), 1e-6)
        print(f"added {label}: {added:.3f} ms (ratio {ratio:,.0f}x)")
    print("target: under 5 ms p50 added per API request")


if __name__ == "__main__":
    main()
