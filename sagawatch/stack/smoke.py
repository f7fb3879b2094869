"""``sagawatch up --smoke``: prove the stack works end to end, one named check per line.

Each check is a function returning a short detail or raising ``SmokeFailure``;
the run goes on after a failure so that the operator sees every broken part at
once, and the exit code is 0 only if all passed.
"""

from __future__ import annotations

from collections.abc import Callable

import boto3
import psycopg

from sagawatch.stack_info import StackInfo


class SmokeFailure(Exception):
    """A check did not hold; the message says what was seen instead."""


Check = Callable[[StackInfo], str]


def check_aws_answers(info: StackInfo) -> str:
    sts = boto3.client(
        "sts",
        endpoint_url=info.aws_endpoint,
        region_name=info.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    account = sts.get_caller_identity()["Account"]
    return f"moto answers at {info.aws_endpoint} (account {account})"


def check_databases_migrated(info: StackInfo) -> str:
    found = []
    for label, url in (("aurora", info.aurora_url), ("audit", info.audit_url)):
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        count = row[0] if row else 0
        if not count:
            raise SmokeFailure(f"{label}: no migration applied")
        found.append(f"{label} at migration {count}")
    return ", ".join(found)


CHECKS: list[tuple[str, Check]] = [
    ("aws", check_aws_answers),
    ("databases", check_databases_migrated),
]


def run_smoke(
    info: StackInfo, say: Callable[[str], None], checks: list[tuple[str, Check]] | None = None
) -> int:
    chosen = checks if checks is not None else CHECKS
    failed = 0
    for name, check in chosen:
        try:
            detail = check(info)
        except Exception as exc:  # a smoke run reports every failure rather than stopping at the first
            failed += 1
            say(f"FAIL {name}: {type(exc).__name__}: {exc}")
        else:
            say(f"ok   {name}: {detail}")
    say(f"smoke: {len(chosen) - failed} passed, {failed} failed")
    return 1 if failed else 0
