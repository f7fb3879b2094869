"""SQS queues: depth, in-flight, age of the oldest message and the queue -> DLQ relation, per pass.

Age of the oldest message: on AWS it is the CloudWatch metric ``AWS/SQS ApproximateAgeOfOldestMessage``
(not a queue attribute); it is used when CloudWatch has it. Otherwise the age is read by peeking: a
``receive_message`` with ``VisibilityTimeout=0`` leaves the message visible, but it still counts as a
receive, and on a queue with a redrive policy enough receives move a message to its DLQ. So the
collector peeks only at queues without a redrive policy (DLQs, plain queues), never at a queue whose
messages a peek could push into its DLQ; there the age stays unknown (NULL) unless CloudWatch has it.
A peek still raises the peeked messages' ``ApproximateReceiveCount``, so a queue is peeked again only
when its depth changed or ``PassLimits.peek_interval_s`` has passed; in between, the oldest message
seen last time is aged (``queue_state.oldest_sent_at``).
Peeked DLQ messages are also kept (``dlq_messages``, PII-masked) so the transaction view can show them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from aws_lambda_powertools.utilities.data_masking import DataMasking
from botocore.exceptions import BotoCoreError, ClientError
from psycopg.types.json import Jsonb

from collectors.errors import CollectorError, unreachable
from collectors.partitions import Partitions, day_of
from collectors.storable import storable
from sagawatch.contracts.correlation import CORRELATION_ID_ATTRIBUTE
from sagawatch.contracts.metrics import SQS_OLDEST_AGE

PII_FIELDS = ("$..email", "$..phone", "$..name", "$..family_name", "$..given_name", "$..phone_number")
_MASKER = DataMasking(raise_on_missing_field=False)


@dataclass(frozen=True)
class QueueSample:
    queue_name: str
    queue_url: str
    queue_arn: str | None
    visible: int
    in_flight: int
    delayed: int
    oldest_age_s: float | None
    dlq_name: str | None
    max_receive_count: int | None
    is_dlq: bool
    oldest_sent_at: datetime | None = None
    peeked_at: datetime | None = None


@dataclass(frozen=True)
class LastPeek:
    """What the previous peek at a queue saw (from ``queue_state``)."""

    visible: int
    oldest_sent_at: datetime | None
    peeked_at: datetime | None


@dataclass(frozen=True)
class DlqMessage:
    queue_name: str
    message_id: str
    correlation_id: str | None
    sent_at: datetime | None
    receive_count: int | None
    body: str
    attributes: dict[str, str]


@dataclass
class QueuePass:
    samples: list[QueueSample] = field(default_factory=list)
    dlq_messages: list[DlqMessage] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)


# --- pure --------------------------------------------------------------------------------------


def queue_name_of(url_or_arn: str) -> str:
    return url_or_arn.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def redrive_target(attributes: Mapping[str, str]) -> tuple[str | None, int | None]:
    """(DLQ name, maxReceiveCount) from the ``RedrivePolicy`` attribute, or (None, None)."""
    raw = attributes.get("RedrivePolicy")
    if not raw:
        return None, None
    try:
        policy = json.loads(raw)
        target = str(policy["deadLetterTargetArn"])
        count = int(policy["maxReceiveCount"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"RedrivePolicy: {exc!s} in {raw!r}") from None
    return queue_name_of(target), count


def sample_from_attributes(url: str, attributes: Mapping[str, str], dlq_names: set[str]) -> QueueSample:
    name = queue_name_of(url)
    dlq, max_receive = redrive_target(attributes)
    return QueueSample(
        queue_name=name,
        queue_url=url,
        queue_arn=attributes.get("QueueArn"),
        visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        oldest_age_s=None,
        dlq_name=dlq,
        max_receive_count=max_receive,
        is_dlq=name in dlq_names,
    )


def should_peek(sample: QueueSample, last: LastPeek | None, now: datetime, interval_s: float) -> bool:
    """Peek a queue with messages when nothing is known, its depth moved, or the last peek is old."""
    if sample.visible <= 0:
        return False
    if last is None or last.peeked_at is None or last.visible != sample.visible:
        return True
    return (now - last.peeked_at).total_seconds() >= interval_s


def dlq_names_of(attributes_by_url: Mapping[str, Mapping[str, str]]) -> set[str]:
    """Every queue some other queue names as its dead-letter target."""
    names = set()
    for attributes in attributes_by_url.values():
        try:
            dlq, _ = redrive_target(attributes)
        except ValueError:
            continue
        if dlq:
            names.add(dlq)
    return names


def message_correlation_id(message: Mapping[str, Any]) -> str | None:
    """The correlation id a message carries: its message attribute, an SNS envelope's, or its body's."""
    attribute = message.get("MessageAttributes", {}).get(CORRELATION_ID_ATTRIBUTE, {})
    if attribute.get("StringValue"):
        return str(attribute["StringValue"])
    try:
        body = json.loads(message.get("Body", ""))
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    envelope = body.get("MessageAttributes", {})
    if isinstance(envelope, dict) and isinstance(envelope.get(CORRELATION_ID_ATTRIBUTE), dict):
        value = envelope[CORRELATION_ID_ATTRIBUTE].get("Value")
        if value:
            return str(value)
    for container in (body, body.get("detail")):
        if isinstance(container, dict) and isinstance(container.get(CORRELATION_ID_ATTRIBUTE), str):
            return str(container[CORRELATION_ID_ATTRIBUTE])
    return None


def mask_body(body: str) -> str:
    """A message body fit to store: PII fields of a JSON body erased; a non-JSON body is not kept."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return f"(non-JSON body, {len(body)} characters, not stored)"
    if not isinstance(parsed, dict | list):
        return body
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "field not found": most bodies lack most fields
        masked = _MASKER.erase(parsed, fields=list(PII_FIELDS))
    # storable: a "\\ud800" escape in the body decodes to a lone surrogate, which PostgreSQL refuses
    return storable(json.dumps(masked, ensure_ascii=False))


def dlq_message(queue_name: str, message: Mapping[str, Any]) -> DlqMessage:
    attributes = message.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    correlation_id = message_correlation_id(message)  # may come from the body's JSON: made storable
    return DlqMessage(
        queue_name=queue_name,
        message_id=str(message["MessageId"]),
        correlation_id=storable(correlation_id) if correlation_id else None,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receive_count=int(attributes["ApproximateReceiveCount"])
        if "ApproximateReceiveCount" in attributes
        else None,
        body=mask_body(str(message.get("Body", ""))),
        attributes={
            k: str(v.get("StringValue"))
            for k, v in message.get("MessageAttributes", {}).items()
            if v.get("StringValue") is not None and k != "traceparent"
        },
    )


# --- I/O ---------------------------------------------------------------------------------------


class QueueCollector:
    def __init__(
        self, sqs: Any, cloudwatch: Any | None = None, peek_messages: int = 10, peek_interval_s: float = 300.0
    ) -> None:
        self._sqs = sqs
        self._cloudwatch = cloudwatch
        self._peek = peek_messages
        self._peek_interval_s = peek_interval_s

    def run(self, now: datetime, last_peeks: Mapping[str, LastPeek] | None = None) -> QueuePass:
        """Sample every queue; ``last_peeks`` (by queue name) spares queues peeked recently."""
        result = QueuePass()
        try:
            urls = [
                url
                for page in self._sqs.get_paginator("list_queues").paginate()
                for url in page.get("QueueUrls", [])
            ]
        except (ClientError, BotoCoreError) as exc:
            result.errors.append(unreachable("queue_unreachable", "list_queues", exc))
            return result
        attributes: dict[str, dict[str, str]] = {}
        for url in urls:
            try:
                attributes[url] = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
                    "Attributes"
                ]
            except (ClientError, BotoCoreError) as exc:
                result.errors.append(unreachable("queue_unreachable", url, exc))
        dlqs = dlq_names_of(attributes)
        for url, attrs in attributes.items():
            try:
                sample = sample_from_attributes(url, attrs, dlqs)
            except ValueError as exc:
                result.errors.append(CollectorError("queue_attributes", url, str(exc)))
                continue
            try:
                sample, messages = self._age(sample, now, (last_peeks or {}).get(sample.queue_name))
            except (ClientError, BotoCoreError) as exc:
                result.errors.append(unreachable("queue_unreachable", url, exc))
                messages = []
            result.samples.append(sample)
            if sample.is_dlq:
                result.dlq_messages.extend(dlq_message(sample.queue_name, m) for m in messages)
        return result

    def _age(
        self, sample: QueueSample, now: datetime, last: LastPeek | None
    ) -> tuple[QueueSample, list[dict[str, Any]]]:
        age = self._metric_age(sample.queue_name, now)
        if sample.dlq_name is not None or self._peek <= 0 or sample.visible <= 0:
            return replace(sample, oldest_age_s=age), []  # never peek where a peek could redrive
        if not should_peek(sample, last, now, self._peek_interval_s):
            oldest = last.oldest_sent_at if last else None
            if age is None and oldest is not None:
                age = max(0.0, (now - oldest).total_seconds())
            peeked_at = last.peeked_at if last else None
            return replace(sample, oldest_age_s=age, oldest_sent_at=oldest, peeked_at=peeked_at), []
        messages: list[dict[str, Any]] = self._sqs.receive_message(
            QueueUrl=sample.queue_url,
            MaxNumberOfMessages=self._peek,
            VisibilityTimeout=0,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        sent = [
            int(m["Attributes"]["SentTimestamp"])
            for m in messages
            if "SentTimestamp" in m.get("Attributes", {})
        ]
        oldest_sent = datetime.fromtimestamp(min(sent) / 1000, UTC) if sent else None
        if age is None and oldest_sent is not None:
            age = max(0.0, (now - oldest_sent).total_seconds())
        return replace(sample, oldest_age_s=age, oldest_sent_at=oldest_sent, peeked_at=now), messages

    def _metric_age(self, queue_name: str, now: datetime) -> float | None:
        if self._cloudwatch is None:
            return None
        try:
            points = self._cloudwatch.get_metric_statistics(
                Namespace=SQS_OLDEST_AGE.namespace,
                MetricName=SQS_OLDEST_AGE.name,
                Dimensions=[{"Name": "QueueName", "Value": queue_name}],
                StartTime=now - timedelta(minutes=5),
                EndTime=now,
                Period=60,
                Statistics=["Maximum"],
            ).get("Datapoints", [])
        except (ClientError, BotoCoreError):
            return None  # the metric is a nicety; the peek or NULL stands in for it
        if not points:
            return None
        return float(max(points, key=lambda p: p["Timestamp"])["Maximum"])


# --- store -------------------------------------------------------------------------------------

_SAMPLE_COLUMNS = (
    "queue_name", "queue_url", "queue_arn", "visible", "in_flight", "delayed", "oldest_age_s", "dlq_name",
    "max_receive_count", "is_dlq",
)  # fmt: skip


def read_last_peeks(conn: psycopg.Connection) -> dict[str, LastPeek]:
    rows = conn.execute("SELECT queue_name, visible, oldest_sent_at, peeked_at FROM queue_state").fetchall()
    return {name: LastPeek(visible, oldest, peeked) for name, visible, oldest, peeked in rows}


def write_queue_pass(
    conn: psycopg.Connection, partitions: Partitions, result: QueuePass, sampled_at: datetime
) -> None:
    """Samples (history and latest) and DLQ messages, in one transaction."""
    if result.samples:
        partitions.ensure_days(conn, "queue_samples", {day_of(sampled_at)})
    history = [(sampled_at, *(getattr(s, c) for c in _SAMPLE_COLUMNS)) for s in result.samples]
    state = [(*row, s.oldest_sent_at, s.peeked_at) for row, s in zip(history, result.samples, strict=True)]
    state_columns = ("sampled_at", *_SAMPLE_COLUMNS, "oldest_sent_at", "peeked_at")
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in state_columns if c != "queue_name")
    with conn.transaction(), conn.cursor() as cur:
        if history:
            cur.executemany(
                f"INSERT INTO queue_samples (sampled_at, {', '.join(_SAMPLE_COLUMNS)})"
                f" VALUES ({', '.join(['%s'] * (len(_SAMPLE_COLUMNS) + 1))})",
                history,
            )
            cur.executemany(
                f"INSERT INTO queue_state ({', '.join(state_columns)})"
                f" VALUES ({', '.join(['%s'] * len(state_columns))})"
                f" ON CONFLICT (queue_name) DO UPDATE SET {updates}",
                state,
            )
        if result.dlq_messages:
            cur.executemany(
                "INSERT INTO dlq_messages (queue_name, message_id, correlation_id, sent_at, receive_count,"
                " body, attributes, first_seen_at, last_seen_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (queue_name, message_id) DO UPDATE SET receive_count = EXCLUDED.receive_count,"
                " last_seen_at = EXCLUDED.last_seen_at",
                [
                    (m.queue_name, m.message_id, m.correlation_id, m.sent_at, m.receive_count, m.body,
                     Jsonb(m.attributes), sampled_at, sampled_at)
                    for m in result.dlq_messages
                ],
            )  # fmt: skip
