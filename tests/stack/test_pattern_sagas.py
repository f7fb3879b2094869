"""The order saga (Step Functions), the member merge saga (名寄せ) and the canary release of the customer
read API (a weighted alias, judged and rolled back with ``sagawatch canary``), over the wire locally.

One in-process stack for the module: moto, the app template in the local
runtime (API front, Step Functions bridge), Aurora (embedded PostgreSQL,
migrated) and the SaaS simulators. What is asserted is what a client or an
operator sees: HTTP answers, execution status and history, ledger items,
saga rows, SaaS records, and what ``sagawatch saga`` commands print.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import psycopg
import pytest
from psycopg import sql

from instrumented_app.runtime.local import LocalRuntime
from instrumented_app.saas_clients import SaasClients, SaasEndpoints, open_clients
from instrumented_app.saas_sim.server import SaasSimulators
from sagawatch.migrations import apply_migrations
from sagawatch.stack.aws import MotoServer
from sagawatch.stack_info import StackInfo
from tests.polling import eventually

pytestmark = pytest.mark.slow

REGION = "us-east-1"


@dataclass
class Stack:
    runtime: LocalRuntime
    info: StackInfo
    home: Any
    sfn: Any
    dynamodb: Any
    logs: Any
    cloudwatch: Any
    saas: SaasClients

    @property
    def api(self) -> str:
        return self.info.api_endpoint

    def sagawatch(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``sagawatch`` command as an operator would, against this stack (its stack.json)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGAWATCH_")}
        env.pop("DATABASE_URL", None)
        env["SAGAWATCH_HOME"] = str(self.home)
        return subprocess.run(
            [sys.executable, "-m", "sagawatch", *args], env=env, capture_output=True, text=True, timeout=120
        )


@pytest.fixture(scope="module")
def stack(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from psycopg.conninfo import make_conninfo

    name = f"sagas_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    aurora_url = make_conninfo(pg_admin_url, dbname=name)
    apply_migrations(aurora_url, "instrumented_app.schema")
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    simulators = SaasSimulators(state_dir=tmp_path_factory.mktemp("saas"))
    saas = simulators.start()
    runtime = LocalRuntime(
        aws_endpoint=endpoint,
        region=REGION,
        otlp_endpoint=None,
        extra_env={"DATABASE_URL": aurora_url, **{f"SAGAWATCH_{k.upper()}_URL": v for k, v in saas.items()}},
    )
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    try:
        runtime.start()
        info = StackInfo(
            pid=os.getpid(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            region=REGION,
            aws_endpoint=endpoint,
            api_endpoint=runtime.main_api,
            otlp_endpoint="",
            aurora_url=aurora_url,
            audit_url="",
            saas=saas,
        )
        home = tmp_path_factory.mktemp("home")
        info.write(home / "stack.json")
        clients = open_clients(
            SaasEndpoints(
                support_url=saas["support"], commerce_url=saas["commerce"], membership_url=saas["membership"]
            )
        )
        yield Stack(
            runtime=runtime,
            info=info,
            home=home,
            sfn=session.client("stepfunctions", endpoint_url=endpoint),
            dynamodb=session.client("dynamodb", endpoint_url=endpoint),
            logs=session.client("logs", endpoint_url=endpoint),
            cloudwatch=session.client("cloudwatch", endpoint_url=endpoint),
            saas=clients,
        )
        clients.close()
    finally:
        runtime.stop()
        simulators.stop()
        moto.reset()
        moto.stop()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- order saga ---


def _order(order_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "cust_no": "C1001",
        "lines": [{"sku": "SKU-1", "qty": 2}],
        "amount": 4200,
        **extra,
    }


def _finished(stack: Stack, arn: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        described = stack.sfn.describe_execution(executionArn=arn)
        return dict(described) if described["status"] != "RUNNING" else None

    return eventually(probe, timeout_s=40)


def _entered(stack: Stack, arn: str) -> list[str]:
    events = stack.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_an_order_runs_every_task_once_and_a_duplicate_post_starts_no_second_execution(stack: Stack) -> None:
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    body = _order(order_id, faults={"transient": {"ProcessPayment": 1}})
    first = httpx.post(f"{stack.api}/orders", json=body, headers={"X-Correlation-Id": f"corr-{order_id}"})
    assert first.status_code == 202, first.text
    arn = first.json()["execution_arn"]
    assert arn.endswith(f":{order_id}")
    again = httpx.post(f"{stack.api}/orders", json=body)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True and again.json()["execution_arn"] == arn

    done = _finished(stack, arn)
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["confirmation"]["order_status"] == "CONFIRMED"
    assert output["correlation_id"] == f"corr-{order_id}"
    # ProcessPayment failed once with TransientError and the ASL's Retry ran it again.
    assert _entered(stack, arn) == ["ReserveInventory", "ProcessPayment", "ArrangeShipping", "ConfirmOrder"]
    machine = done["stateMachineArn"]
    named = [e["name"] for e in stack.sfn.list_executions(stateMachineArn=machine)["executions"]]
    assert named.count(order_id) == 1
    # Every task's log lines carry the order's correlation id (taken from the execution input).
    stack.runtime.invoker.flush()
    functions = ("sw-orders", "sw-order-reserve-inventory", "sw-order-process-payment", "sw-order-confirm")
    for function in functions:
        pages = stack.logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{function}")
        messages = [e["message"] for page in pages for e in page["events"]]
        lines = [json.loads(m) for m in messages if m.startswith("{")]
        assert any(line.get("correlation_id") == f"corr-{order_id}" for line in lines), function
    shown = httpx.get(f"{stack.api}/orders/{order_id}").json()
    assert shown["status"] == "SUCCEEDED"
    assert {t: v["status"] for t, v in shown["tasks"].items()} == {
        "ReserveInventory": "DONE",
        "ProcessPayment": "DONE",
        "ArrangeShipping": "DONE",
        "ConfirmOrder": "DONE",
    }


def test_a_failure_at_shipping_is_compensated_and_a_redrive_completes_the_order(stack: Stack) -> None:
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    answer = httpx.post(f"{stack.api}/orders", json=_order(order_id, faults={"fail": {"ArrangeShipping": 1}}))
    assert answer.status_code == 202, answer.text
    arn = answer.json()["execution_arn"]
    failed = _finished(stack, arn)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "OrderFailed"
    assert _entered(stack, arn) == [
        "ReserveInventory",
        "ProcessPayment",
        "ArrangeShipping",
        "RefundPayment",
        "CancelReservation",
        "OrderFailed",
    ]
    tasks = httpx.get(f"{stack.api}/orders/{order_id}").json()["tasks"]
    assert tasks["ProcessPayment"]["status"] == "COMPENSATED"
    assert tasks["ReserveInventory"]["status"] == "COMPENSATED"
    assert "ConfirmOrder" not in tasks

    done = stack.sagawatch("saga", "redrive", arn)
    assert done.returncode == 0, done.stdout + done.stderr
    new_arn = f"{arn}.redrive-1"
    # moto has no RedriveExecution: a re-run from the failed step, under a name of its own
    assert f"redriven by re-run from ArrangeShipping: {new_arn}" in done.stdout
    assert f"execution {new_arn}: SUCCEEDED" in done.stdout
    shown = httpx.get(f"{stack.api}/orders/{order_id}").json()
    assert shown["status"] == "SUCCEEDED"
    assert shown["execution_arn"] == new_arn
    assert all(v["status"] == "DONE" for v in shown["tasks"].values())
    # What compensation undid was done again, under the next generation.
    assert shown["tasks"]["ProcessPayment"]["generation"] == 2
    assert shown["tasks"]["ArrangeShipping"]["generation"] == 1


# --- member merge saga ---


def _customer(stack: Stack, cust_no: str) -> None:
    body = {
        "cust_no": cust_no,
        "name": {"family": "Yamada", "given": cust_no},
        "email": f"{cust_no.lower()}@example.com",
    }
    answer = httpx.post(f"{stack.api}/customers", json=body, timeout=60)
    assert answer.status_code == 201, answer.text


def _records(stack: Stack, cust_no: str) -> tuple[int, int, int]:
    """How many support users, commerce customers and members hold ``cust_no``."""
    support = 1 if stack.saas.support.find_by_external_id(cust_no) else 0
    member = 1 if stack.saas.membership.find_by_member_no(cust_no) else 0
    return support, len(stack.saas.commerce.find_by_multipass(cust_no)), member


def _aurora(stack: Stack, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(stack.info.aurora_url) as conn:
        return conn.execute(query, params).fetchall()


def test_a_merge_leaves_one_record_per_system_for_the_target_and_none_for_the_losers(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    target, loser = f"MA{tag}", f"MB{tag}"
    _customer(stack, target)
    _customer(stack, loser)
    answer = httpx.post(f"{stack.api}/members/merge", json={"target": target, "merge": [loser]}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "SUCCEEDED"
    assert answer.json()["cust_nos"] == [target, loser]
    assert _records(stack, target) == (1, 1, 1)
    assert _records(stack, loser) == (0, 0, 0)
    statuses = dict(
        _aurora(stack, "SELECT cust_no, status FROM customer WHERE cust_no IN (%s, %s)", target, loser)
    )
    assert statuses == {target: "ACTIVE", loser: "DELETED"}
    assert _aurora(
        stack, "SELECT target_cust_no, state FROM customer_merge WHERE loser_cust_no = %s", loser
    ) == [(target, "MERGED")]


def test_a_merge_failing_past_the_point_of_no_return_needs_a_person_and_resume_finishes_it(
    stack: Stack,
) -> None:
    tag = uuid.uuid4().hex[:6]
    target, loser = f"MC{tag}", f"MD{tag}"
    _customer(stack, target)
    _customer(stack, loser)
    body = {"target": target, "merge": [loser], "faults": {"fail_at": "commerce_losers"}}
    answer = httpx.post(f"{stack.api}/members/merge", json=body, timeout=60)
    assert answer.status_code == 202, answer.text
    seen = answer.json()
    saga_id = seen["saga_id"]
    assert seen["status"] == "MANUAL_INTERVENTION"
    assert seen["failed_step"] == "commerce_losers"
    # Nothing was compensated: the loser's support user is gone, its commerce customer and member not yet.
    assert _records(stack, loser) == (0, 1, 1)
    runbook = seen["runbook"]
    assert [d["step"] for d in runbook["done"]] == [
        "claim",
        "support_target",
        "commerce_target",
        "membership_target",
        "support_losers",
    ]
    assert [r["step"] for r in runbook["remaining"]] == [
        "commerce_losers",
        "membership_losers",
        "retire_losers",
    ]
    assert runbook["commands"]["finish"] == [f"sagawatch saga resume {saga_id}"]
    assert {"cust_no": loser, "system": "support"} in [
        {k: change[k] for k in ("cust_no", "system")} for change in runbook["diff"]
    ]
    audit = _aurora(stack, "SELECT status, event FROM saga_audit_log WHERE saga_id = %s ORDER BY id", saga_id)
    assert audit == [("MANUAL_INTERVENTION", "merge stopped: manual intervention needed")]

    shown = stack.sagawatch("saga", "runbook", saga_id)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"runbook of saga {saga_id} (member_merge): OPEN" in shown.stdout
    assert "remaining: commerce_losers" in shown.stdout
    assert f"finish:    sagawatch saga resume {saga_id}" in shown.stdout

    finish = runbook["commands"]["finish"][0].split()
    done = stack.sagawatch(*finish[1:])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"saga {saga_id}: MANUAL_INTERVENTION -> SUCCEEDED" in done.stdout
    assert _records(stack, loser) == (0, 0, 0)
    assert _records(stack, target) == (1, 1, 1)
    assert _aurora(stack, "SELECT status FROM saga_runbook WHERE saga_id = %s", saga_id) == [("RESOLVED",)]
    audit = _aurora(stack, "SELECT status FROM saga_audit_log WHERE saga_id = %s ORDER BY id", saga_id)
    assert audit == [("MANUAL_INTERVENTION",), ("SUCCEEDED",)]


# --- canary ---

CANARY = "sw-customer-read"
FAILED = "failed"


def _reads(stack: Stack, cust_no: str, count: int) -> Counter[str]:
    """Read the customer ``count`` times; answers counted by the version that served them."""
    seen: Counter[str] = Counter()
    with httpx.Client(base_url=stack.api, timeout=15, trust_env=False) as http:
        for _ in range(count):
            answer = http.get(f"/customers/{cust_no}")
            if answer.status_code == 200:
                assert answer.json()["cust_no"] == cust_no
                seen[answer.headers["x-function-version"]] += 1
            else:
                assert answer.status_code == 502, answer.text  # the API front's answer to a Lambda error
                seen[FAILED] += 1
    return seen


def _emf_sum(stack: Stack, metric: str, version: str, since: datetime) -> float:
    """The sum of the function's EMF metric for one version, as CloudWatch holds it."""
    stats = stack.cloudwatch.get_metric_statistics(
        Namespace="sagawatch",
        MetricName=metric,
        Dimensions=[{"Name": "service", "Value": CANARY}, {"Name": "version", "Value": version}],
        StartTime=since - timedelta(minutes=2),
        EndTime=datetime.now(UTC) + timedelta(minutes=2),
        Period=60,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in stats["Datapoints"]))


def test_the_canary_splits_as_weighted_a_defective_v2_is_judged_fail_and_rollback_returns_all_to_v1(
    stack: Stack,
) -> None:
    started = datetime.now(UTC)
    cust_no = f"CR{uuid.uuid4().hex[:8]}"
    _customer(stack, cust_no)
    shown = stack.sagawatch("canary", "status", CANARY, "--json")
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert (state["primary_version"], state["canary_version"], state["canary_weight"]) == ("1", "2", 0.05)

    # 95/5 as the template deploys it: every failure is the canary's (version 1 has no defect).
    first = _reads(stack, cust_no, 200)
    assert 1 <= first["2"] + first[FAILED] <= 25, first
    assert set(first) <= {"1", "2", FAILED}

    # More canary traffic so the judge has enough samples of version 2.
    weighted = stack.sagawatch("canary", "set", CANARY, "--weight", "0.5")
    assert weighted.returncode == 0, weighted.stderr
    assert "canary version 2 weight 0.05 -> 0.5" in weighted.stdout
    time.sleep(1.2)  # the runtime re-reads an alias after 1 s, as Lambda's front ends do
    second = _reads(stack, cust_no, 140)
    assert 35 <= second["2"] + second[FAILED] <= 105, second
    assert second[FAILED] >= 5, second

    # The per-version EMF reached CloudWatch with what the client saw.
    stack.runtime.invoker.flush()
    served = first + second
    assert _emf_sum(stack, "Invocations", "1", started) == served["1"]
    assert _emf_sum(stack, "Errors", "1", started) == 0
    assert _emf_sum(stack, "Invocations", "2", started) == served["2"] + served[FAILED]
    assert _emf_sum(stack, "Errors", "2", started) == served[FAILED]

    judged = stack.sagawatch("canary", "judge", CANARY, "--minutes", "10", "--json")
    assert judged.returncode == 1, judged.stdout + judged.stderr
    report = json.loads(judged.stdout)
    assert report["result"]["verdict"] == "FAIL"
    baseline, canary = report["versions"]
    assert (baseline["version"], canary["version"]) == ("1", "2")
    assert (baseline["errors"], canary["errors"]) == (0, served[FAILED])
    flagged = {m["name"]: m["classification"] for m in report["result"]["metrics"]}
    assert flagged["error_rate"] == "High"

    rolled = stack.sagawatch("canary", "rollback", CANARY)
    assert rolled.returncode == 0, rolled.stderr
    assert "canary version 2 (weight 0.5) removed; all traffic to version 1" in rolled.stdout
    time.sleep(1.2)
    assert _reads(stack, cust_no, 30) == Counter({"1": 30})


@pytest.mark.parametrize("pattern", ["order_saga", "member_merge", "canary"])
def test_the_demo_shows_the_pattern_working(stack: Stack, pattern: str) -> None:
    from instrumented_app.demo import DEMOS

    module_name, function_name = DEMOS[pattern].split(":")
    demo = getattr(__import__(module_name, fromlist=[function_name]), function_name)
    said: list[str] = []
    assert demo(stack.info, said.append), "\n".join(said)
    print("\n".join(said))
