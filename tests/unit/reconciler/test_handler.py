"""``sw-reconcile``, the scheduled reconciler: its input, the run lock, the counts it answers with.

The run itself is the reconciler's (``reconcile_once``) against a real PostgreSQL and the
in-process SaaS simulators; only CloudWatch is replaced, by a recorder of the published count.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from reconciler import handler as sw_reconcile
from reconciler.config import Endpoints, ReconcileSettings
from reconciler.handler import ReconcileError, reconcile
from reconciler.lock import run_lock
from reconciler.model import DriftKind
from reconciler.run import Mode, RunOptions, RunResult, SystemResult

# the reconciler tests' live parts: simulators, fresh Aurora and audit databases
from tests.lambda_context import FakeContext
from tests.unit.reconciler.conftest import admin, audit_url, aurora_url, saas_urls, simulators  # noqa: F401
from tests.unit.reconciler.world import copy_for, insert_rows, load, mirror_everywhere, row


def _environ(aurora: str, audit: str, urls: dict[str, str]) -> dict[str, str]:
    """The variables the template gives sw-reconcile."""
    return {
        "DATABASE_URL": aurora,
        "AUDIT_DATABASE_URL": audit,
        **{f"SAGAWATCH_{system.upper()}_URL": url for system, url in urls.items()},
    }


class Published:
    """Stands in for CloudWatch: the open-findings counts the handler put."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def __call__(self, url: str) -> int:
        from reconciler.metrics import open_findings

        self.counts.append(open_findings(url))
        return self.counts[-1]


@pytest.fixture(autouse=True)
def _no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows written by a test are seconds old: without this, the grace window would defer them all."""
    monkeypatch.setenv("SAGAWATCH_RECONCILE_GRACE_S", "0")


# -- input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"mode": "weekly"}, "mode: Input should be 'incremental' or 'full'"),
        ({"mdoe": "full"}, "mdoe: Extra inputs are not permitted"),
        ({"systems": ["support", "crm"]}, "systems: Value error, unknown system crm"),
        ({"systems": []}, "systems: Value error, at least one system"),
        ({"apply": "perhaps"}, "apply: Input should be a valid boolean"),
        (["full"], "event: must be a JSON object, got list"),
    ],
)
def test_bad_input_is_an_error_naming_the_field_and_runs_nothing(event: Any, named: str) -> None:
    def never(*_args: Any) -> RunResult:
        raise AssertionError("a bad input must not start a run")

    with pytest.raises(ReconcileError) as raised:
        reconcile(event, environ={}, run=never, publish=Published())
    assert named in str(raised.value)
    assert raised.value.error_code == "RECONCILE_BAD_INPUT"


def test_missing_endpoints_are_named_with_the_template_parameters() -> None:
    environ = {"DATABASE_URL": "postgresql://aurora", "SAGAWATCH_SUPPORT_URL": "http://127.0.0.1:1"}
    with pytest.raises(ReconcileError) as raised:
        reconcile({"systems": ["support", "commerce"]}, environ=environ, publish=Published())
    assert str(raised.value).startswith("AUDIT_DATABASE_URL, SAGAWATCH_COMMERCE_URL: not set")
    assert raised.value.error_code == "RECONCILE_NOT_CONFIGURED"


def test_the_templates_schedules_run_incremental_hourly_and_full_nightly() -> None:
    """Each schedule's Input, as the template declares it, reaches the run as its mode, over every system."""
    from instrumented_app.runtime.template import APP_TEMPLATE, translated_template

    resources = translated_template(APP_TEMPLATE, "us-east-1")["Resources"]
    schedules = {
        props["Name"]: (props["ScheduleExpression"], props["Target"]["Input"])
        for props in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule")
        if props["Target"]["Arn"] == {"Fn::GetAtt": ["ReconcileFunction", "Arn"]}
    }
    seen: list[RunOptions] = []

    def record(endpoints: Endpoints, settings: ReconcileSettings, options: RunOptions) -> RunResult:
        seen.append(options)
        return RunResult(run_id="r1", mode=options.mode, started_at=datetime.now(UTC))

    urls = {
        "support": "http://127.0.0.1:1",
        "commerce": "http://127.0.0.1:2",
        "membership": "http://127.0.0.1:3",
    }
    environ = _environ("postgresql://a", "postgresql://b", urls)
    for _expression, text in schedules.values():
        assert (
            reconcile(json.loads(text), environ=environ, run=record, publish=lambda _url: 0)["status"]
            == "clean"
        )
    assert {name: expression for name, (expression, _input) in schedules.items()} == {
        "sw-reconcile-hourly": "cron(0 * * * ? *)",
        "sw-reconcile-nightly": "cron(30 2 * * ? *)",
    }
    everything = ("commerce", "membership", "support")
    assert {name: (o.mode, o.systems, o.apply) for name, o in zip(schedules, seen, strict=True)} == {
        "sw-reconcile-hourly": (Mode.INCREMENTAL, everything, False),
        "sw-reconcile-nightly": (Mode.FULL, everything, False),
    }


# -- runs against the real reconciler --------------------------------------------------------------


def test_drift_is_answered_with_its_counts_and_the_open_count_published(
    aurora_url: str,  # noqa: F811
    audit_url: str,  # noqa: F811
    saas_urls: dict[str, str],  # noqa: F811
    admin: httpx.Client,  # noqa: F811
) -> None:
    rows = [row(n) for n in range(4)]
    insert_rows(aurora_url, rows)
    for system in ("support", "commerce"):  # membership holds none: four missing_in_saas there
        load(admin, saas_urls[system], [copy_for(system, r) for r in rows])
    published = Published()

    answer = reconcile(
        {"mode": "full"}, environ=_environ(aurora_url, audit_url, saas_urls), publish=published
    )

    assert (answer["status"], answer["mode"], answer["findings"]) == ("drift", "full", 4)
    assert answer["by_system"] == {
        "commerce": {},
        "membership": {DriftKind.MISSING_IN_SAAS.value: 4},
        "support": {},
    }
    assert answer["repairs_planned"] == 4 and answer["repairs"] == {}  # planned, not applied
    assert published.counts == [4] and answer["open_findings"] == 4
    json.dumps(answer)  # a Lambda answer must serialise


def test_a_run_due_while_another_holds_the_lock_is_reported_skipped(
    aurora_url: str,  # noqa: F811
    audit_url: str,  # noqa: F811
    saas_urls: dict[str, str],  # noqa: F811
    admin: httpx.Client,  # noqa: F811
) -> None:
    rows = [row(n) for n in range(3)]
    insert_rows(aurora_url, rows)
    mirror_everywhere(admin, saas_urls, rows)
    environ = _environ(aurora_url, audit_url, saas_urls)
    published = Published()

    with run_lock(audit_url):  # as a cron job or an operator's `sagawatch reconcile` would
        skipped = reconcile({"mode": "incremental"}, environ=environ, publish=published)
    assert skipped["status"] == "skipped" and "another reconciliation is running" in skipped["reason"]
    assert published.counts == []  # nothing ran, nothing to say

    after = reconcile({"mode": "incremental"}, environ=environ, publish=published)
    assert (after["status"], after["findings"], published.counts) == ("clean", 0, [0])


def test_a_system_that_cannot_be_read_fails_the_invocation(
    aurora_url: str,  # noqa: F811
    audit_url: str,  # noqa: F811
    saas_urls: dict[str, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI's exit code 2: the function fails, so its error alarm hears it."""
    monkeypatch.setenv("SAGAWATCH_RECONCILE_RETRY_ATTEMPTS", "1")
    environ = _environ(aurora_url, audit_url, saas_urls) | {"SAGAWATCH_SUPPORT_URL": "http://127.0.0.1:9"}
    with pytest.raises(ReconcileError) as raised:
        reconcile({"systems": ["support"]}, environ=environ, publish=Published())
    assert raised.value.error_code == "RECONCILE_FAILED"
    assert "support:" in str(raised.value)


# -- through the Lambda entry point ------------------------------------------------------------------


CONTEXT = FakeContext(
    function_name="sw-reconcile",
    function_version="$LATEST",
    aws_request_id="3f0c2d1e-0000-4000-8000-00000000000a",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:sw-reconcile",
    memory_limit_in_mb=1024,
    remaining_time_in_millis=900_000,
)


def test_the_handler_logs_a_bad_input_with_its_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ReconcileError):
        sw_reconcile.handler({"mode": "hourly"}, CONTEXT)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("level") == "ERROR"]
    assert failed and failed[-1]["error_code"] == "RECONCILE_BAD_INPUT"
    assert failed[-1]["function_name"] == "sw-reconcile"


def test_a_run_result_summary_holds_counts_only() -> None:
    """Findings carry (masked) values; the answer and its log line carry none of them."""
    system = SystemResult("support")
    system.counts[DriftKind.FIELD_MISMATCH] += 2
    result = RunResult(run_id="r2", mode=Mode.INCREMENTAL, started_at=datetime.now(UTC), systems=[system])
    answer = sw_reconcile.summary(result)
    assert answer["by_system"] == {"support": {"field_mismatch": 2}}
    assert set(answer) == {
        "status",
        "run_id",
        "mode",
        "findings",
        "by_system",
        "deferred",
        "repairs_planned",
        "repairs",
        "errors",
        "duration_s",
    }
