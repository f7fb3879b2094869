"""Fan-out throughput: order events per second through all three consumers on the embedded stack.

In process: moto's server and the local runtime with the app template, no
traces exported (the figure is the pattern's, not the OTLP receiver's).
``EVENTS`` placed-order events are published to the order events topic (SNS
``PublishBatch``, ten at a time, with the ``event_type`` attribute the filter
policies match); each reaches the inventory, billing and notification queues,
so ``3 x EVENTS`` messages are consumed, each recorded once in the order
effects table. Printed: publish rate, time until every effect is recorded,
messages per second overall and per consumer (from the effects' own
``recorded_at`` times). Run: ``.venv/bin/python bench/bench_fanout.py [EVENTS]``.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import datetime
from typing import Any

EVENTS = 300
CONSUMERS = ("inventory", "billing", "notification")
TABLE = "sw-order-effects"
DEADLINE_S = 300.0
REGION = "us-east-1"


def publish(sns: Any, topic_arn: str, prefix: str, count: int) -> float:
    started = time.perf_counter()
    for first in range(0, count, 10):
        entries = []
        for n in range(first, min(first + 10, count)):
            body = {
                "order_id": f"{prefix}-{n}",
                "event_type": "order_placed",
                "amount": 1000 + n,
                "items": [{"sku": "BENCH", "quantity": 1}],
            }
            entries.append(
                {
                    "Id": str(n),
                    "Message": json.dumps(body),
                    "MessageAttributes": {
                        "event_type": {"DataType": "String", "StringValue": "order_placed"}
                    },
                }
            )
        answer = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"PublishBatch refused {len(answer['Failed'])} entries: {answer['Failed'][0]}")
    return time.perf_counter() - started


def recorded(dynamodb: Any, prefix: str) -> list[dict[str, Any]]:
    """Every effect of this run (a Scan: fine for a benchmark, never for a hot path)."""
    items: list[dict[str, Any]] = []
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=TABLE,
        FilterExpression="begins_with(order_id, :p)",
        ExpressionAttributeValues={":p": {"S": prefix}},
        ProjectionExpression="consumer, recorded_at",
    )
    for page in pages:
        items.extend(page["Items"])
    return items


def main(events: int) -> None:
    from instrumented_app.runtime.local import LocalRuntime
    from sagawatch.aws import aws_session
    from sagawatch.stack.aws import MotoServer

    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(aws_endpoint=endpoint, region=REGION, otlp_endpoint=None)
    runtime.start()
    try:
        session = aws_session(REGION, endpoint)
        sns: Any = session.client("sns", endpoint_url=endpoint)
        dynamodb: Any = session.client("dynamodb", endpoint_url=endpoint)
        sqs: Any = session.client("sqs", endpoint_url=endpoint)
        topic = next(
            t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":sw-order-events")
        )
        # Warm-up: one event, so each consumer's first worker process has started before the clock runs.
        publish(sns, topic, "warm", 1)
        _wait_for(sqs, dynamodb, "warm", len(CONSUMERS))

        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        publish_s = publish(sns, topic, prefix, events)
        items = _wait_for(sqs, dynamodb, prefix, events * len(CONSUMERS))
        elapsed = time.perf_counter() - started
    finally:
        runtime.stop()
        moto.stop()

    messages = events * len(CONSUMERS)
    print(
        f"events published: {events} in {publish_s:.2f} s "
        f"({events / publish_s:.0f} events/s, SNS PublishBatch)"
    )
    print(f"messages consumed: {messages} (3 consumers) in {elapsed:.2f} s from the first publish")
    print(f"fan-out throughput: {messages / elapsed:.0f} messages/s through all three consumers")
    first = min(_at(item) for item in items)
    for consumer in CONSUMERS:
        times = [_at(item) for item in items if item["consumer"]["S"] == consumer]
        span = max((max(times) - first), 1e-3)
        print(
            f"  {consumer:<12} {len(times)} messages, last recorded {span:.2f} s after the first: "
            f"{len(times) / span:.0f}/s"
        )


def _at(item: dict[str, Any]) -> float:
    return datetime.fromisoformat(item["recorded_at"]["S"]).timestamp()


def _wait_for(sqs: Any, dynamodb: Any, prefix: str, count: int) -> list[dict[str, Any]]:
    """The run's effects once all three queues are drained (cheap to poll) and every effect is there."""
    urls = [sqs.get_queue_url(QueueName=f"sw-fanout-{name}")["QueueUrl"] for name in CONSUMERS]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if all(_drained(sqs, url) for url in urls):
            items = recorded(dynamodb, prefix)
            if len(items) >= count:
                return items
        time.sleep(0.25)
    raise SystemExit(
        f"only {len(recorded(dynamodb, prefix))} of {count} effects recorded after {DEADLINE_S:.0f} s"
    )


def _drained(sqs: Any, url: str) -> bool:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(counts[name] == "0" for name in names)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS)
