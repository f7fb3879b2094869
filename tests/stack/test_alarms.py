"""The ERROR alarm of the customer saga through the running stack, as an operator sees it (issue 6).

Traffic with a 30% support error rate makes the alarm of ``sw-customers`` go to ALARM within two
evaluation periods (10 s periods here), and back to OK once the faults stop; both transitions are
in the audit store with CloudWatch's reasons, and ``describe_alarms`` agrees.

The alarm loop is the one ``sagawatch up`` runs, given 10 s periods through ``SAGAWATCH_ALARMS_*``
(``stack_env`` drops the test's own ``SAGAWATCH_*`` variables, so these are passed to ``module_stack``).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from alarms.app_template import load_template
from alarms.deploy import deploy, ensure_topic
from alarms.inventory import read_inventory
from alarms.settings import AlarmSettings
from alarms.standard import standard_set
from alarms.store import AlarmStore, StoredTransition
from sagawatch.aws import aws_session
from sagawatch.stack_info import StackInfo
from tests.stack.conftest import RunningStack, module_stack

APP_TEMPLATE = Path(__file__).resolve().parents[2] / "instrumented_app" / "template.yaml"

pytestmark = pytest.mark.slow

FUNCTION = "sw-customers"
ALARM = f"sagawatch-errors-{FUNCTION}"
PERIOD_S = 10
INTERVAL_S = 2.0
#: Log shipping and a loaded machine; the bound asserted is two periods plus this.
SLACK_S = 12.0
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout_s: float, what: str) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not seen within {timeout_s} s")


class Traffic:
    """A few clients creating customers back to back until stopped (each request bounded)."""

    def __init__(self, api: str, clients: int = 4, max_requests: int = 5000) -> None:
        self._api = api
        self._stop = threading.Event()
        self._numbers = itertools.count()
        self._max = max_requests
        self.statuses: list[int] = []
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        run = uuid.uuid4().hex[:6]
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                n = next(self._numbers)
                if n >= self._max:
                    return
                body = {
                    "cust_no": f"AL{run}{n:05d}",
                    "name": {"family": "Sato", "given": "Hana"},
                    "email": f"al{run}{n}@example.com",
                }
                try:
                    self.statuses.append(client.post(f"{self._api}/customers", json=body).status_code)
                except httpx.HTTPError:
                    self.statuses.append(0)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


#: Short periods for the stack's own alarm loop, so a transition takes seconds rather than minutes.
ALARM_ENV = {
    "SAGAWATCH_ALARMS_PERIOD_S": str(PERIOD_S),
    "SAGAWATCH_ALARMS_LOG_METRIC_RESOLUTION_S": str(PERIOD_S),
    "SAGAWATCH_ALARMS_INTERVAL_S": str(INTERVAL_S),
    "SAGAWATCH_ALARMS_INVENTORY_INTERVAL_S": "5",
}


stack = module_stack("alarms", env=ALARM_ENV, start_timeout_s=90)


def set_support_faults(info: StackInfo, faults: dict[str, Any]) -> None:
    httpx.put(f"{info.saas['support']}/_admin/faults", json=faults, timeout=10).raise_for_status()


def transitions(info: StackInfo) -> list[StoredTransition]:
    return list(reversed(AlarmStore(info.audit_url).transitions(ALARM)))


def test_support_errors_raise_the_customer_saga_alarm_and_it_clears_when_they_stop(
    stack: RunningStack,
) -> None:
    info = StackInfo.read(stack.home / "stack.json")
    assert info is not None
    traffic = Traffic(info.api_endpoint)
    traffic.start()
    try:
        eventually(lambda: [t for t in transitions(info) if t.new_state == "OK"], 60, f"{ALARM} in OK")
        faults_on = time.time()
        set_support_faults(info, {"error_rate": 0.3, "seed": 7})
        raised = eventually(
            lambda: [t for t in transitions(info) if t.new_state == "ALARM"], 90, f"{ALARM} in ALARM"
        )[0]
        set_support_faults(info, {})
        cleared = eventually(
            lambda: [
                t for t in transitions(info) if t.new_state == "OK" and t.changed_at > raised.changed_at
            ],
            90,
            f"{ALARM} back in OK",
        )[0]
    finally:
        set_support_faults(info, {})
        traffic.stop()

    assert raised.changed_at.timestamp() - faults_on <= 2 * PERIOD_S + INTERVAL_S + SLACK_S
    assert raised.old_state == "OK"
    assert raised.reason.startswith("Threshold Crossed: 1 datapoint [")
    assert "was greater than the threshold (0.0)" in raised.reason
    assert raised.reason_data["evaluatedDatapoints"][0]["value"] > 0
    assert cleared.old_state == "ALARM"
    assert "was not greater than the threshold (0.0)" in cleared.reason
    assert 502 in traffic.statuses and 201 in traffic.statuses  # the faults reached the saga, not all failed

    session: Any = aws_session(info.region, info.aws_endpoint)
    cloudwatch = session.client("cloudwatch", endpoint_url=info.aws_endpoint)
    described = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert described["StateValue"] == "OK"
    # the API front's own metrics put its API into the inventory: it got a 5xx alarm without code
    api_alarms = cloudwatch.describe_alarms(AlarmNamePrefix="sagawatch-api-5xx-")["MetricAlarms"]
    assert [a["Dimensions"] for a in api_alarms] == [
        [{"Name": "ApiName", "Value": "sagawatch-app-api"}, {"Name": "Stage", "Value": "v1"}]
    ]


def declared(resources: dict[str, Any], resource_type: str, name_field: str) -> set[str]:
    return {r["Properties"][name_field] for r in resources.values() if r["Type"] == resource_type}


def test_deploy_on_the_running_stack_puts_exactly_the_alarms_the_template_declares(
    stack: RunningStack,
) -> None:
    """One definition, used both ways: the set read from the live stack is the template's set."""
    info = StackInfo.read(stack.home / "stack.json")
    assert info is not None
    # the API enters the live inventory by its metrics: one request makes sure there are some
    httpx.get(f"{info.api_endpoint}/diagnostics/ping", timeout=30)
    session: Any = aws_session(info.region, info.aws_endpoint)
    inventory = eventually(
        lambda: (found := read_inventory(session, info.aws_endpoint)).apis and found,
        30,
        "the API in the live inventory",
    )
    # the loop's own settings, so this deploy changes nothing the loop evaluates
    settings = AlarmSettings(**{k.removeprefix("SAGAWATCH_ALARMS_").lower(): v for k, v in ALARM_ENV.items()})
    topic = ensure_topic(session.client("sns", endpoint_url=info.aws_endpoint), settings.topic_name)
    result = deploy(
        standard_set(inventory, settings, topic),
        session.client("logs", endpoint_url=info.aws_endpoint),
        session.client("cloudwatch", endpoint_url=info.aws_endpoint),
    )
    template = load_template(APP_TEMPLATE.read_text(encoding="utf-8"))["Resources"]
    assert result.skipped == {}  # every function's log group is declared, so every filter went in
    assert set(result.alarms) == declared(template, "AWS::CloudWatch::Alarm", "AlarmName")
    assert set(result.metric_filters) == declared(template, "AWS::Logs::MetricFilter", "FilterName")
    # the actions' topic is the template's: deploy's alarms and the template's notify the same one
    assert settings.topic_name in declared(template, "AWS::SNS::Topic", "TopicName")
