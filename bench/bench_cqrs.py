"""CQRS projection lag: from a write on ``/items`` to the read model, p50/p99 over N writes.

Starts the embedded stack in-process (moto's server + the local runtime with
``instrumented_app/template.yaml``, as the stack tests do), warms the API and
projection functions up, then sends N ``POST /items`` (in ``--clients``
parallel threads, one keep-alive client each) and waits for the read model to
hold every one. The lag of each write is what the projection recorded on the
item's row in the read model: ``projected_at_ms - written_at_ms``, the write's own
timestamp (set by the API handler just before its ``PutItem``) to the moment
the projection applied it (the same figure it emits as the EMF metric
``ProjectionLag``). Also printed: the writes' HTTP latency and the time until
the last write was projected, and the projection's invocations (count, records
each, duration) from its REPORT lines in CloudWatch Logs. Prints; asserts nothing.

While the projection runs, the script polls each item's row by key; the
category summary (a ``Query`` of the whole category) is read once at the end,
and its time printed.

    .venv/bin/python bench/bench_cqrs.py [--writes 200] [--clients 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from instrumented_app.items.projection import ReadModel
from instrumented_app.runtime.local import LocalRuntime
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer

REGION = "us-east-1"
READ_MODEL_TABLE = "sw-items-read-model"  # instrumented_app/template.yaml
PROJECTION_LOG_GROUP = "/aws/lambda/sw-items-projection"
#: The longest the read model may take to hold every write before the run is called incomplete.
DRAIN_TIMEOUT_S = 120.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def write(api: str, category: str, count: int) -> list[tuple[str, float]]:
    """``count`` items created one after another; (item id, HTTP milliseconds) each."""
    done = []
    with httpx.Client(base_url=api, timeout=30, trust_env=False) as http:
        for n in range(count):
            started = time.perf_counter()
            answer = http.post(
                "/items", json={"name": f"b{n}", "category": category, "price": "1.25", "quantity": 1}
            )
            answer.raise_for_status()
            done.append((str(answer.json()["item_id"]), (time.perf_counter() - started) * 1000))
    return done


def wait_for_projection(
    read_model: ReadModel, category: str, item_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Each item's row in the category's read model, once all are there (or what is there after
    ``DRAIN_TIMEOUT_S``). Polls with ``GetItem`` by key, which costs moto little: a summary reads the
    whole category and would compete with the projection being measured."""
    states: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline and len(states) < len(item_ids):
        for item_id in item_ids:
            if item_id not in states and (state := read_model.item_row(category, item_id)) is not None:
                states[item_id] = state
        if len(states) < len(item_ids):
            time.sleep(0.1)
    return states


def invocation_figures(runtime: LocalRuntime, logs: Any) -> str:
    """How the projection ran: invocations, records per invocation and duration, from its REPORT lines and
    its "item change projected" lines in CloudWatch Logs (as an operator would read them)."""
    runtime.invoker.flush()
    durations, records = [], 0
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=PROJECTION_LOG_GROUP)
    for page in pages:
        for event in page["events"]:
            message = event["message"]
            if message.startswith("REPORT RequestId:"):
                durations.append(float(message.split("Duration: ")[1].split(" ms")[0]))
            elif '"item change projected"' in message:
                records += 1
    if not durations:
        return "projection: no invocation reported"
    return (
        f"projection (whole run, warm-up included): {len(durations)} invocations, "
        f"{records / len(durations):.1f} records each, duration ms p50 {percentile(durations, 0.5):.0f}, "
        f"p99 {percentile(durations, 0.99):.0f}"
    )


def run(writes: int, clients: int) -> None:
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(aws_endpoint=endpoint, region=REGION, otlp_endpoint=None)
    try:
        started = time.perf_counter()
        runtime.start()
        print(f"stack up in {time.perf_counter() - started:.1f} s; API {runtime.main_api}")
        dynamodb = aws_session(REGION, endpoint).client("dynamodb", endpoint_url=endpoint)
        read_model = ReadModel(READ_MODEL_TABLE, dynamodb)
        category = f"bench-{uuid.uuid4().hex[:8]}"
        # Warm-up: every client's worker process started, and the projection's first invocations done.
        with ThreadPoolExecutor(max_workers=clients) as pool:
            warm = list(pool.map(lambda _: write(runtime.main_api, "bench-warmup", 2), range(clients)))
        warm_ids = [item_id for batch in warm for item_id, _ in batch]
        if len(wait_for_projection(read_model, "bench-warmup", warm_ids)) < len(warm_ids):
            print("warm-up writes were never projected: is the projection's stream mapping running?")
            return

        per_client = [writes // clients + (1 if n < writes % clients else 0) for n in range(clients)]
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            batches = list(pool.map(lambda count: write(runtime.main_api, category, count), per_client))
        written_s = time.perf_counter() - began
        done = [entry for batch in batches for entry in batch]
        found = wait_for_projection(read_model, category, [item_id for item_id, _ in done])
        drained_s = time.perf_counter() - began
        states = list(found.values())
        complete = len(states) == len(done)

        http_ms = [ms for _, ms in done]
        lags = [float(state["projected_at_ms"] - state["written_at_ms"]) for state in states]
        print(
            f"writes: {len(done)} by {clients} clients in {written_s:.2f} s ({len(done) / written_s:.1f}/s)"
        )
        print(
            f"POST /items latency ms: p50 {percentile(http_ms, 0.5):.1f}, p99 {percentile(http_ms, 0.99):.1f}"
        )
        if not lags:
            print("no write reached the read model")
            return
        print(
            f"projection lag ms (write -> read model), {len(lags)} of {len(done)} projected: "
            f"p50 {percentile(lags, 0.5):.0f}, p99 {percentile(lags, 0.99):.0f}, "
            f"mean {statistics.fmean(lags):.0f}, max {max(lags):.0f}"
        )
        print(
            invocation_figures(runtime, aws_session(REGION, endpoint).client("logs", endpoint_url=endpoint))
        )
        outcome = "" if complete else f" (incomplete: gave up after {DRAIN_TIMEOUT_S:.0f} s)"
        print(f"last write projected {drained_s:.2f} s after the first was sent{outcome}")
        started = time.perf_counter()
        summary = read_model.summary(category)
        print(
            f"summary of {category}: item_count {summary and summary['item_count']} "
            f"(read in {(time.perf_counter() - started) * 1000:.0f} ms)"
        )
    finally:
        runtime.stop()
        moto.reset()
        moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--writes", type=int, default=200, help="how many items to create (default 200)")
    parser.add_argument("--clients", type=int, default=4, help="parallel writers (default 4)")
    arguments = parser.parse_args()
    if arguments.writes < 1 or arguments.clients < 1:
        parser.error("--writes and --clients must be at least 1")
    run(arguments.writes, min(arguments.clients, arguments.writes))


if __name__ == "__main__":
    main()
