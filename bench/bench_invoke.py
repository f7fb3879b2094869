"""Overhead of the local Lambda runtime per invocation: ``LocalInvoker`` against calling the handler directly.

Both sides run the same handler (``handler`` below) on the same event in the same
run. The invoker side is a warm invoke (the worker process already started):
pipe round trip, JSON both ways, the context, and queueing the log lines (the
shipping to CloudWatch Logs happens on a background thread, as it does in
``sagawatch up``). Also printed: the cold start (``Init Duration``) and a
``lambda.invoke`` through moto's API with the Step Functions bridge installed.
Target: under ~1 ms added p50 for a warm invoke.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from typing import Any

WARMUP = 50
RUNS = 2000
BRIDGE_RUNS = 300
COLD_STARTS = 5
EVENT = {"order_id": "o-42", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}], "amount": 4200}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A small handler: one log line, a computed answer."""
    print(f"order {event['order_id']} for {event['amount']}")
    return {"order_id": event["order_id"], "lines": len(event["items"])}


class _Context:
    function_name = "bench"
    aws_request_id = "direct"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def _timed(call: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def _direct() -> list[float]:
    context, real_stdout = _Context(), sys.stdout
    sys.stdout = io.StringIO()  # the direct call prints too; keep the terminal for the figures
    try:
        _timed(lambda: handler(EVENT, context), WARMUP)
        return _timed(lambda: handler(EVENT, context), RUNS)
    finally:
        sys.stdout = real_stdout


def main() -> None:
    import json
    import logging

    import boto3
    import httpx
    from moto.server import ThreadedMotoServer

    from instrumented_app.runtime.invoker import LocalInvoker
    from instrumented_app.runtime.sfn_bridge import install_sfn_bridge

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    config = {"lambda": {"use_docker": False}}
    httpx.post(f"{endpoint}/moto-api/config", json=config, timeout=10).raise_for_status()

    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    role = client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("placeholder.py", "")
    lam = client("lambda")
    for name in ["bench"] + [f"bench-cold-{i}" for i in range(COLD_STARTS)]:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="bench_invoke.handler",
            Code={"ZipFile": code.getvalue()},
        )

    direct = _direct()
    with LocalInvoker(aws_endpoint=endpoint, region="us-east-1") as invoker:
        cold = []
        for i in range(COLD_STARTS):
            started = time.perf_counter()
            invoker.invoke(f"bench-cold-{i}", EVENT)
            cold.append((time.perf_counter() - started) * 1000)
        _timed(lambda: invoker.invoke("bench", EVENT), WARMUP)
        warm = _timed(lambda: invoker.invoke("bench", EVENT), RUNS)
        uninstall = install_sfn_bridge(invoker)
        payload = json.dumps(EVENT).encode()
        bridged = _timed(
            lambda: lam.invoke(FunctionName="bench", Payload=payload)["Payload"].read(), BRIDGE_RUNS
        )
        uninstall()
        invoker.flush()
        shipped = invoker.logs.stats.shipped_events
    server.stop()

    print(
        f"direct handler call       p50 {_p(direct, 50):8.3f} ms   p99 {_p(direct, 99):8.3f} ms   (n={RUNS})"
    )
    print(f"LocalInvoker warm invoke  p50 {_p(warm, 50):8.3f} ms   p99 {_p(warm, 99):8.3f} ms   (n={RUNS})")
    print(
        f"added by the runtime      p50 {_p(warm, 50) - _p(direct, 50):8.3f} ms   "
        f"p99 {_p(warm, 99) - _p(direct, 99):8.3f} ms   (target: p50 under ~1 ms)"
    )
    print(
        f"cold start (first invoke) p50 {_p(cold, 50):8.1f} ms   max {max(cold):8.1f} ms   (n={COLD_STARTS})"
    )
    print(
        f"lambda.invoke via moto    p50 {_p(bridged, 50):8.3f} ms   p99 {_p(bridged, 99):8.3f} ms   "
        f"(n={BRIDGE_RUNS}, bridge installed)"
    )
    print(f"log events shipped to CloudWatch Logs: {shipped}")


if __name__ == "__main__":
    main()
