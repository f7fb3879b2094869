"""Collector figures: parse-only lines/s, ingest lines/s (CloudWatch Logs in moto -> audit store), and the
transaction-view query time with 1 million log lines and 100,000 sagas in the store.

Targets (issue 5): parse >= 100,000 lines/s, ingest >= 20,000 lines/s, transaction view < 100 ms.
Everything runs on loopback: moto's threaded server and an embedded PostgreSQL in a temporary
directory (or the server in ``SAGAWATCH_TEST_PG_URL``). Bulk rows are generated with COPY.

Ingest is three processes (the collector, moto, PostgreSQL) sharing the machine, so beside the
wall-clock rate the bench prints the CPU each spent per line (from /proc), the bound that CPU sets
on an idle machine, and, in the same run, the rate of moto alone serving the same reads: when other
work loads the machine, moto alone is slower than the target too, and the ratio says how close the
collector comes to it.
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
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
from benchpg import fresh_database, postgres

from collectors.logs.collect import LogCollector
from collectors.logs.events_unparsed import read_events_unparsed
from collectors.logs.parse import StreamContext, parse_event
from collectors.logs.store import Position, commit_raw_page
from collectors.partitions import Partitions
from collectors.settings import PassLimits
from collectors.transaction.query import fetch_transaction
from sagawatch.aws import aws_session

REGION = "us-east-1"
SCHEMAS = ("collectors.schema",)
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
def moto_process() -> Iterator[tuple[str, int]]:
    """moto's server in a process of its own (endpoint, pid): its CPU is measured apart from ours."""
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
        yield endpoint, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


def process_cpu_s(pid: int, reaped_children: bool = False) -> float:
    """CPU seconds (user + system, all threads) of a process, from /proc; with ``reaped_children``
    also those of its children that have exited (PostgreSQL's backends, once the postmaster reaps them)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s(conn: psycopg.Connection) -> float | None:
    """CPU seconds of the whole PostgreSQL server this connection reaches (postmaster, background
    workers, live and exited backends); None when it is not a local process we can read."""
    try:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        postmaster = int(Path(f"/proc/{row[0] if row else 0}/stat").read_text().rsplit(")", 1)[1].split()[1])
        total = process_cpu_s(postmaster, reaped_children=True)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # gone meanwhile
                if int(stat[1]) == postmaster:
                    total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return total
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class IngestFigures:
    lines: int
    wall_s: float  # the best of the repeats (the machine is shared)
    cpu_us: dict[str, float | None]  # CPU microseconds per line: collector, moto, postgres (median)
    moto_alone_wall_s: float
    moto_alone_cpu_us: float  # moto's server and our client, per line
    store_alone_wall_s: float
    load_s: float

    @property
    def rate(self) -> float:
        return self.lines / self.wall_s

    def ceiling(self, cpus: int) -> float | None:
        """Lines/s if CPU were the only limit: each Python process (GIL) on at most one core, the
        three together on ``cpus`` cores. An upper bound for an idle machine, not a measurement."""
        known = [v for v in self.cpu_us.values() if v is not None]
        if len(known) != len(self.cpu_us):
            return None
        busiest = max(self.cpu_us["collector"] or 0.0, self.cpu_us["moto"] or 0.0, sum(known) / cpus)
        return 1e6 / busiest


def load_moto(logs: Any, group: str, count: int, streams: int) -> list[str]:
    """``count`` lines in ``streams`` streams of ``group``; returns the stream names."""
    logs.create_log_group(logGroupName=group)
    lines = lines_mix(count)
    per_stream = count // streams
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
    return names


def read_moto_alone(logs: Any, group: str, names: list[str]) -> list[tuple[str, list[dict[str, object]]]]:
    """The collector's forward reads (same page size), nothing parsed or stored."""
    fetched: list[tuple[str, list[dict[str, object]]]] = []
    for stream in names:
        token = None
        while True:
            request = {"logGroupName": group, "logStreamName": stream, "startFromHead": True, "limit": 10_000}
            page = logs.get_log_events(**request, **({"nextToken": token} if token else {}))
            fetched.append((stream, page["events"]))
            if page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
    return fetched


def store_alone(url: str, group: str, fetched: list[tuple[str, list[dict[str, object]]]]) -> float:
    """Seconds to parse and COPY pages already fetched, on one connection (the store side alone)."""
    with psycopg.connect(url, autocommit=True) as conn:
        partitions = Partitions()
        started = time.perf_counter()
        positions: dict[str, Position] = {}
        for stream, events in fetched:
            old = positions.get(stream)
            seq = old.next_seq if old else 0
            new = Position(f"t{seq + len(events)}", seq + len(events))
            commit_raw_page(conn, partitions, StreamContext.of(group, stream), old, new, seq, events)
            positions[stream] = new
        return time.perf_counter() - started


def bench_ingest(admin_url: str, count: int, streams: int, repeats: int) -> IngestFigures:
    """The collector's pass (CloudWatch Logs in moto -> store) ``repeats`` times, each into a fresh
    store, with the CPU each process spent; and, in the same run, moto alone and the store alone."""
    group = "/aws/lambda/sw-orders"
    with moto_process() as (endpoint, moto_pid):
        logs = aws_session(REGION, endpoint).client("logs", endpoint_url=endpoint)
        read_events_unparsed(logs)  # the collector's client path, for moto alone as well
        loaded = time.perf_counter()
        names = load_moto(logs, group, count, streams)
        load_s = time.perf_counter() - loaded

        moto_cpu, client_cpu, started = process_cpu_s(moto_pid), time.process_time(), time.perf_counter()
        fetched = read_moto_alone(logs, group, names)
        moto_alone_wall = time.perf_counter() - started
        moto_alone_cpu = process_cpu_s(moto_pid) - moto_cpu + time.process_time() - client_cpu
        read = sum(len(events) for _, events in fetched)

        walls: list[float] = []
        cpus: dict[str, list[float]] = {"collector": [], "moto": [], "postgres": []}
        for _ in range(repeats):
            with fresh_database(admin_url, SCHEMAS) as url, psycopg.connect(url, autocommit=True) as conn:
                collector = LogCollector(logs, Partitions(), PassLimits(log_pages_per_stream=1000))
                pg_before, moto_before = postgres_cpu_s(conn), process_cpu_s(moto_pid)
                ours_before, started = time.process_time(), time.perf_counter()
                stats = collector.run(conn, partial(psycopg.connect, url, autocommit=True))
                walls.append(time.perf_counter() - started)
                cpus["collector"].append(time.process_time() - ours_before)
                cpus["moto"].append(process_cpu_s(moto_pid) - moto_before)
                time.sleep(0.2)  # the workers' backends have exited: let the postmaster reap them
                pg_after = postgres_cpu_s(conn)
                if pg_before is not None and pg_after is not None:
                    cpus["postgres"].append(pg_after - pg_before)
                stored = conn.execute("SELECT count(*) FROM log_lines").fetchone()
                if stored is None or stored[0] != read or stats.lines != read:
                    raise SystemExit(f"ingest stored {stored} rows, expected {read}")
        with fresh_database(admin_url, SCHEMAS) as url:
            store_wall = store_alone(url, group, fetched)
    per_line = {
        name: statistics.median(values) * 1e6 / read if values else None for name, values in cpus.items()
    }
    return IngestFigures(
        read, min(walls), per_line, moto_alone_wall, moto_alone_cpu * 1e6 / read, store_wall, load_s
    )


def bench_transaction_view(
    admin_url: str, log_lines: int, sagas: int, queries: int
) -> tuple[float, float, float]:
    """(seconds to load, median ms, p95 ms) of ``fetch_transaction`` on a store of that size."""
    with fresh_database(admin_url, SCHEMAS) as url, psycopg.connect(url, autocommit=True) as conn:
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
    parser.add_argument("--ingest-repeats", type=int, default=3)
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
    with postgres("bench-collectors-") as admin_url:
        ingest = bench_ingest(admin_url, args.ingest_lines, streams=10, repeats=args.ingest_repeats)
        cpus = os.cpu_count() or 1
        ceiling = ingest.ceiling(cpus)
        us = {k: "n/a" if v is None else f"{v:.1f} us" for k, v in ingest.cpu_us.items()}
        moto_rate = ingest.lines / ingest.moto_alone_wall_s
        print(
            f"ingest: {ingest.rate:>12,.0f} lines/s   (target >= 20,000; {ingest.lines:,} lines, 10 streams,"
            f" best of {args.ingest_repeats}; load average {os.getloadavg()[0]:.1f} on {cpus} CPUs)\n"
            f"        CPU per line: collector {us['collector']}, moto {us['moto']},"
            f" PostgreSQL {us['postgres']}\n"
            f"        {ceiling or 0:>12,.0f} lines/s   CPU ceiling: each Python process on one core at most,"
            f" all three on {cpus} (an idle machine's bound, not a measurement)\n"
            f"        {moto_rate:>12,.0f} lines/s   moto alone serving the same reads, this run"
            f" ({ingest.moto_alone_cpu_us:.1f} us CPU per line, server and client);"
            f" ingest / moto alone = {ingest.rate / moto_rate:.2f}\n"
            f"        {ingest.lines / ingest.store_alone_wall_s:>12,.0f} lines/s   parse + COPY alone,"
            f" one connection (the store side)\n"
            f"        moto took {ingest.load_s:.1f} s to accept the lines",
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
