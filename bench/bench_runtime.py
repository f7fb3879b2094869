"""What the local Lambda runtime adds per invocation, against calling the handler directly.

Two paths, each on the real runtime (moto in this process, the runtime's
worker processes, the fixture app of the stack tests):

- API front round trip: ``GET /echo`` over HTTP through the API front and the
  invoker, against calling the echo handler function in this process;
- SQS delivery: ``SendMessage`` to the fixture's work queue until the poller's
  invocation of the batch worker has returned, against calling the worker
  handler directly on an SQS event of one record.

Prints p50/p99 of each and the milliseconds added; the issue's target is under
5 ms p50 added per API request. It prints, it does not assert.

    .venv/bin/python bench/bench_runtime.py [--requests 1000] [--messages 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fixture app lives in tests/

from instrumented_app.runtime.local import LocalRuntime
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer
from tests.stack.fixtures.handlers import batch_worker, echo

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "tests" / "stack" / "fixtures" / "runtime_template.yaml"
REGION = "us-east-1"


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 128
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(call: Any, count: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def report(title: str, direct: list[float], through: list[float]) -> None:
    print(title)
    print(f"  {'':10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, samples in (("direct", direct), ("runtime", through)):
        print(f"  {name:10}{percentile(samples, 0.5):>10.3f}{percentile(samples, 0.99):>10.3f}")
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        added = percentile(through, fraction) - percentile(direct, fraction)
        print(f"  added at {label}: {added:.3f} ms")


def api_path(runtime: LocalRuntime, requests: int) -> None:
    event = {
        "path": "/echo",
        "httpMethod": "GET",
        "queryStringParameters": {"cust_no": "C0001"},
        "headers": {},
    }
    direct = timed(lambda: echo.handler(event, Context()), requests)
    with httpx.Client(base_url=runtime.main_api, timeout=30) as client:
        for _ in range(50):  # warm: connection, worker process, imports
            client.get("/echo", params={"cust_no": "C0001"})
        through = timed(lambda: client.get("/echo", params={"cust_no": "C0001"}).raise_for_status(), requests)
    report(f"API front round trip, {requests} sequential requests", direct, through)


def sqs_path(runtime: LocalRuntime, endpoint: str, messages: int) -> None:
    record = {
        "messageId": "m",
        "receiptHandle": "r",
        "body": json.dumps({"n": 1}),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fx-work",
        "awsRegion": REGION,
    }
    direct = timed(lambda: batch_worker.handler({"Records": [record]}, Context()), messages)

    done: dict[str, float] = {}
    arrived = threading.Condition()
    invoker = runtime.invoker
    original = invoker.invoke

    def recording_invoke(function_name: str, event: Any, *, qualifier: str | None = None) -> Any:
        result = original(function_name, event, qualifier=qualifier)
        finished = time.perf_counter()
        if isinstance(event, dict):
            with arrived:
                for item in event.get("Records", []):
                    done[json.loads(item.get("body", "{}")).get("id", "")] = finished
                arrived.notify_all()
        return result

    invoker.invoke = recording_invoke  # type: ignore[method-assign]
    sqs = aws_session(REGION, endpoint).client("sqs", endpoint_url=endpoint)
    queue = sqs.get_queue_url(QueueName="fx-work")["QueueUrl"]
    through = []
    for _ in range(messages):
        message_id = uuid.uuid4().hex
        sent = time.perf_counter()
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"id": message_id}))
        with arrived:
            arrived.wait_for(lambda wanted=message_id: wanted in done, timeout=30)
        if message_id not in done:
            raise SystemExit("a message was not delivered within 30 s")
        through.append((done[message_id] - sent) * 1000)
    invoker.invoke = original  # type: ignore[method-assign]
    report(f"SQS delivery (send -> invocation returned), {messages} messages one at a time", direct, through)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()

    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(aws_endpoint=endpoint, region=REGION, otlp_endpoint=None, template_path=TEMPLATE)
    try:
        runtime.start()
        api_path(runtime, args.requests)
        sqs_path(runtime, endpoint, args.messages)
    finally:
        runtime.stop()
        moto.reset()
        moto.stop()


if __name__ == "__main__":
    main()
