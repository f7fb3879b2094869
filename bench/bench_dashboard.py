"""Each dashboard page's render time over a large audit store (target: every page under 2 s).

The store gets 100,000 sagas (three steps each), 1 million log lines, 10,000 open drift findings over
50 reconcile runs, 200,000 invocations of a canary function (v1 and v2) and alarms with their
history, generated inside PostgreSQL (``INSERT ... SELECT generate_series``, the fastest way to bulk
load, the same path as COPY without the client round trip). Each page is then rendered with
Streamlit's ``AppTest`` (the script run a browser triggers: queries, judge, charts built), once to
warm imports and caches, then ``--runs`` times; the median and the worst are printed per page.

    .venv/bin/python bench/bench_dashboard.py [--sagas N] [--log-lines N] [--findings N] [--runs N]

``SAGAWATCH_TEST_PG_URL`` points it at an existing server instead of an embedded one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from benchpg import fresh_database, postgres

from collectors.partitions import create_partition

PACKAGES = ("collectors.schema", "reconciler.schema", "alarms.schema", "dashboard.schema")
TARGET_S = 2.0


#: Bulk data, generated in the server. %(n)s is the row count of each statement.
SAGAS = """
INSERT INTO sagas (saga_id, source, saga_type, correlation_id, status, current_step, started_at,
                   updated_at, stuck, age_s, idle_s)
SELECT 's-' || i, 'aurora', (ARRAY['create_customer','order','member_merge'])[1 + i % 3], 'corr-' || i,
       (ARRAY['SUCCEEDED','SUCCEEDED','SUCCEEDED','RUNNING','COMPENSATED','FAILED'])[1 + i % 6],
       'support_user', now() - (i || ' s')::interval, now() - (i || ' s')::interval + interval '2 s',
       i % 997 = 0, i + 2, i
FROM generate_series(1, %(n)s) AS i
"""
STEPS = """
INSERT INTO saga_steps (saga_id, seq, name, status, started_at, finished_at)
SELECT 's-' || i, seq, (ARRAY['aurora','support_user','commerce_customer'])[seq], 'SUCCEEDED',
       now() - (i || ' s')::interval, now() - (i || ' s')::interval + interval '1 s'
FROM generate_series(1, %(n)s) AS i, generate_series(1, 3) AS seq
"""
LOG_LINES = """
INSERT INTO log_lines (ts, log_group, log_stream, seq, kind, function_name, function_version, level,
                       request_id, correlation_id, saga_id, trace_id, message, raw)
SELECT now() - ((i %% 86000) || ' s')::interval, '/aws/lambda/sw-' || (i %% 8), 'stream-' || (i %% 50), i,
       'json', 'sw-' || (i %% 8), '1', CASE WHEN i %% 50 = 0 THEN 'ERROR' ELSE 'INFO' END,
       'req-' || (i / 4), 'corr-' || (i / 10), 's-' || (i / 10), md5(i::text), 'step done',
       '{"message": "step done", "email": "***@***"}'
FROM generate_series(1, %(n)s) AS i
"""
INVOCATIONS = """
INSERT INTO invocations (ts, log_group, log_stream, seq, function_name, function_version, request_id,
                         duration_ms, status)
SELECT now() - ((i %% 3500) || ' s')::interval, '/aws/lambda/fx-canary', 's', i, 'fx-canary',
       CASE WHEN i %% 10 = 0 THEN '2' ELSE '1' END, 'req-' || i, 80 + (i %% 40),
       CASE WHEN i %% 10 = 0 AND i %% 3 = 0 THEN 'error' ELSE 'success' END
FROM generate_series(1, %(n)s) AS i
"""
RUNS = """
INSERT INTO reconcile_run (run_id, mode, systems, started_at, finished_at, duration_s, status, counts)
SELECT 'r-' || i, 'incremental', ARRAY['support','commerce','membership'],
       now() - ((50 - i) * 10 || ' min')::interval, now() - ((50 - i) * 10 || ' min')::interval, 3, 'drift',
       jsonb_build_object('support', jsonb_build_object('field_mismatch', %(n)s / 3),
                          'commerce', jsonb_build_object('missing_in_saas', %(n)s / 3),
                          'membership', jsonb_build_object('stale', %(n)s / 3))
FROM generate_series(1, 50) AS i
"""
FINDINGS = """
INSERT INTO reconcile_finding (fingerprint, kind, system, key, field, aurora_value, saas_value, first_seen,
                               last_seen, first_run, last_run)
SELECT 'f-' || i, (ARRAY['field_mismatch','missing_in_saas','stale'])[1 + i %% 3],
       (ARRAY['support','commerce','membership'])[1 + i %% 3], 'C' || lpad(i::text, 7, '0'), 'email',
       '***@***', 'x***@***', now() - interval '1 day', now() - ((i %% 500) || ' s')::interval, 'r-1', 'r-50'
FROM generate_series(1, %(n)s) AS i
"""
ALARMS = """
INSERT INTO alarm_states (alarm_name, state, reason, changed_at, namespace, metric_name)
SELECT 'alarm-' || i, CASE WHEN i % 5 = 0 THEN 'ALARM' ELSE 'OK' END, 'threshold', now(), 'sagawatch/app',
       'Metric' || i
FROM generate_series(1, 30) AS i;
INSERT INTO alarm_transitions (alarm_name, old_state, new_state, reason, changed_at)
SELECT 'alarm-' || (1 + i % 30), 'OK', 'ALARM', 'threshold crossed', now() - (i || ' min')::interval
FROM generate_series(1, 3000) AS i;
INSERT INTO metric_points (namespace, name, dimensions, ts, period_s, sum, sample_count, minimum, maximum)
SELECT 'sagawatch/app', 'Metric' || (1 + i % 30), jsonb_build_object('queue', 'q' || (i % 4)),
       date_trunc('minute', now()) - ((i / 120) || ' min')::interval, 60, i % 7, 1, 0, i % 7
FROM generate_series(1, 100000) AS i
ON CONFLICT DO NOTHING
"""


def load(url: str, sagas: int, log_lines: int, findings: int) -> float:
    started = time.perf_counter()
    today = datetime.now(UTC).date()
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("log_lines", "invocations", "metric_points", "queue_samples"):
            for day in (
                today - timedelta(days=2),
                today - timedelta(days=1),
                today,
                today + timedelta(days=1),
            ):
                create_partition(conn, table, day)
        conn.execute(SAGAS.replace("%(n)s", str(sagas)))
        conn.execute(STEPS.replace("%(n)s", str(sagas)))
        conn.execute(LOG_LINES, {"n": log_lines})
        conn.execute(INVOCATIONS, {"n": 2 * sagas})
        conn.execute(RUNS, {"n": findings})
        conn.execute(FINDINGS, {"n": findings})
        for statement in ALARMS.split(";"):
            conn.execute(statement)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


#: Pages as an operator opens them from a link: one saga's page, one correlation id's transaction.
DEEP_LINKS = {
    "sagas": {"saga_id": "s-5000"},
    "trace": {"correlation_id": "corr-5000"},
}


def render_times(page: str, runs: int, query: dict[str, str] | None = None) -> list[float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(f"from dashboard import app\napp.main(start={page!r})\n", default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()  # warm: imports, first connection
    if at.exception:
        raise RuntimeError(f"page {page} failed: {at.exception[0].message}")
    elements = [*at.text_input, *at.title, *at.header, *at.subheader, *at.markdown, *at.code]
    shown = " ".join(str(getattr(element, "value", "")) for element in elements)
    missing = [value for value in (query or {}).values() if value not in shown]
    if missing:  # a deep link that rendered nothing of what it names would time an empty page
        raise RuntimeError(f"page {page} does not show {missing}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sagas", type=int, default=100_000)
    parser.add_argument("--log-lines", type=int, default=1_000_000)
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["SAGAWATCH_DASHBOARD_REFRESH_S"] = "0"
    from dashboard.app import PAGES

    with postgres("bench-dashboard-") as admin_url, fresh_database(admin_url, PACKAGES) as url:
        os.environ["SAGAWATCH_AUDIT_URL"] = url
        load_s = load(url, args.sagas, args.log_lines, args.findings)
        print(
            f"store: {args.sagas:,} sagas, {args.log_lines:,} log lines, {args.findings:,} drift findings,"
            f" {2 * args.sagas:,} canary invocations; loaded in {load_s:.0f} s"
            f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)",
            flush=True,
        )
        cases = [(page, None) for page in PAGES] + list(DEEP_LINKS.items())
        for page, query in cases:
            times = render_times(page, args.runs, query)
            worst = max(times)
            name = page if query is None else f"{page}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
            print(
                f"{name:<26} median {statistics.median(times):6.2f} s   worst {worst:6.2f} s"
                f"   {'ok' if worst < TARGET_S else 'OVER'} (target < {TARGET_S:g} s, {args.runs} runs)",
                flush=True,
            )


if __name__ == "__main__":
    main()
