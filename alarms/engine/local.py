"""The engine's parts for a running stack: boto3 clients on its endpoint, the audit store, hooks.

Hooks stand in for what AWS does by itself: the standard set follows the live inventory (as a
redeploy would), and SQS's own metrics of the dead-letter queues reach CloudWatch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from alarms.actions.audit import AuditStoreAction
from alarms.actions.sns import SnsAction
from alarms.deploy import deploy, ensure_topic
from alarms.engine.cloudwatch import CloudWatchBackend
from alarms.engine.engine import AlarmEngine, EngineParts
from alarms.engine.logtail import LogTail
from alarms.engine.loop import AlarmLoop
from alarms.inventory import Inventory, read_inventory
from alarms.names import SQS_OLDEST_AGE, SQS_VISIBLE
from alarms.settings import AlarmSettings
from alarms.standard import standard_set
from alarms.store import AlarmStore
from sagawatch.aws import aws_session
from sagawatch.migrations import apply_migrations
from sagawatch.stack_info import StackInfo

log = logging.getLogger(__name__)

#: moto's account; on AWS the caller's account is asked for.
LOCAL_ACCOUNT_ID = "123456789012"


class StandardSetHook:
    """Keeps the standard set deployed for the live inventory; puts it again only when it changed."""

    name = "standard-set"

    def __init__(
        self, settings: AlarmSettings, session: Any, endpoint: str | None, topic_arn: str | None
    ) -> None:
        self._settings = settings
        self._session = session
        self._endpoint = endpoint
        self._topic_arn = topic_arn
        self._logs = session.client("logs", endpoint_url=endpoint)
        self._cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
        self._deployed: str | None = None
        self._last_check: datetime | None = None
        self.inventory = Inventory()

    def __call__(self, now: datetime) -> None:
        if (
            self._last_check
            and (now - self._last_check).total_seconds() < self._settings.inventory_interval_s
        ):
            return
        self._last_check = now
        self.inventory = read_inventory(self._session, self._endpoint)
        alarm_set = standard_set(self.inventory, self._settings, self._topic_arn)
        digest = hashlib.sha256(json.dumps(alarm_set.as_requests(), sort_keys=True).encode()).hexdigest()
        if digest != self._deployed:
            result = deploy(alarm_set, self._logs, self._cloudwatch)
            if not result.skipped:
                self._deployed = digest  # a filter whose log group is missing is retried next time
            log.info(
                "alarms: standard set deployed (%d filters, %d alarms)",
                len(result.metric_filters),
                len(result.alarms),
            )


class DlqMetricsHook:
    """Publishes ``AWS/SQS`` depth and oldest-message age of the DLQs, as SQS does on AWS.

    The age comes from a peek (receive with ``VisibilityTimeout=0``) at up to 10 messages, so it
    is a lower bound on a large DLQ, and each peek raises the peeked messages' receive counts (so a
    DLQ that has a redrive policy of its own is not peeked: its age is not published).
    """

    name = "dlq-metrics"

    def __init__(self, sqs: Any, cloudwatch: Any, queues: Callable[[], tuple[str, ...]]) -> None:
        self._sqs = sqs
        self._cloudwatch = cloudwatch
        self._queues = queues

    def __call__(self, now: datetime) -> None:
        data = []
        for name in self._queues():
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "RedrivePolicy"]
            )["Attributes"]
            visible = float(attributes.get("ApproximateNumberOfMessages", 0))
            dims = [{"Name": "QueueName", "Value": name}]
            data.append(_datum(SQS_VISIBLE.name, dims, now, visible, "Count"))
            if visible == 0:
                data.append(_datum(SQS_OLDEST_AGE.name, dims, now, 0.0, "Seconds"))
            elif "RedrivePolicy" not in attributes:  # a peek counts as a receive: never push a message on
                data.append(_datum(SQS_OLDEST_AGE.name, dims, now, self._oldest_age_s(url, now), "Seconds"))
        for i in range(0, len(data), 1000):
            self._cloudwatch.put_metric_data(Namespace=SQS_VISIBLE.namespace, MetricData=data[i : i + 1000])

    def _oldest_age_s(self, url: str, now: datetime) -> float:
        messages = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        sent = [
            int(m["Attributes"]["SentTimestamp"])
            for m in messages
            if "SentTimestamp" in m.get("Attributes", {})
        ]
        if not sent:
            return 0.0
        return max(0.0, now.timestamp() - min(sent) / 1000)


def _datum(name: str, dims: list[dict[str, str]], at: datetime, value: float, unit: str) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Value": value, "Unit": unit}


def local_parts(settings: AlarmSettings, stack_info: StackInfo) -> EngineParts:
    """Parts for ``sagawatch up``: moto's endpoint, the stack's audit store, SNS topic created."""
    endpoint = stack_info.aws_endpoint
    session = aws_session(stack_info.region, endpoint)
    cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
    logs = session.client("logs", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    topic_arn = settings.topic_arn or ensure_topic(sns, settings.topic_name)
    apply_migrations(stack_info.audit_url, "alarms.schema")
    standard = StandardSetHook(settings, session, endpoint, topic_arn)
    return EngineParts(
        backend=CloudWatchBackend(cloudwatch, logs),
        logs=LogTail(logs, settings.max_log_pages),
        actions=[
            SnsAction(sns, stack_info.region, LOCAL_ACCOUNT_ID),
            AuditStoreAction(AlarmStore(stack_info.audit_url)),
        ],
        hooks=[standard, DlqMetricsHook(sqs, cloudwatch, lambda: standard.inventory.dead_letter_queues)],
    )


def start_local_loop(stack_info: StackInfo, settings: AlarmSettings | None = None) -> AlarmLoop:
    """What ``sagawatch up`` runs: the engine on the stack, every ``interval_s``; ``stop()`` it on exit."""
    settings = settings or AlarmSettings()
    loop = AlarmLoop(AlarmEngine(settings, stack_info), settings.interval_s)
    loop.start()
    return loop
