"""Queue sampling and bad input: vanished queues, sources down, peeks that would disturb queues."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import collectors.logs.store as log_store
from collectors.logs.collect import LogCollector
from collectors.logs.store import read_positions
from collectors.partitions import Partitions
from collectors.queues import LastPeek, QueueCollector
from sagawatch.migrations import apply_migrations

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
GONE = "http://127.0.0.1:1/123456789012/gone"
OK = "http://127.0.0.1:1/123456789012/orders"


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self._pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self._pages


class FakeSqs:
    """Two queues listed; one of them vanished before its attributes could be read."""

    def __init__(self) -> None:
        self.received: list[str] = []

    def get_paginator(self, name: str) -> _Pages:
        assert name == "list_queues"
        return _Pages([{"QueueUrls": [GONE, OK]}])

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        if QueueUrl == GONE:
            raise ClientError(
                {"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "gone"}},
                "GetQueueAttributes",
            )
        return {"Attributes": {"ApproximateNumberOfMessages": "2", "QueueArn": "arn:aws:sqs:r:1:orders"}}

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.received.append(kwargs["QueueUrl"])
        assert kwargs["VisibilityTimeout"] == 0  # a peek, never a consume
        return {
            "Messages": [{"MessageId": "m", "Body": "{}", "Attributes": {"SentTimestamp": "1764000000000"}}]
        }


def test_an_unreachable_queue_is_recorded_and_the_others_are_sampled() -> None:
    sqs = FakeSqs()
    result = QueueCollector(sqs).run(NOW)
    assert [s.queue_name for s in result.samples] == ["orders"]
    assert result.samples[0].visible == 2
    assert result.samples[0].oldest_age_s == (NOW.timestamp() - 1_764_000_000)
    assert [(e.kind, e.source) for e in result.errors] == [("queue_unreachable", GONE)]
    assert "NonExistentQueue" in result.errors[0].detail


class UnreachableSqs(FakeSqs):
    def get_paginator(self, name: str) -> _Pages:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_sqs_down_is_one_error_not_a_crash() -> None:
    result = QueueCollector(UnreachableSqs()).run(NOW)
    assert result.samples == [] and [e.kind for e in result.errors] == ["queue_unreachable"]


class UnreachableLogs:
    def get_paginator(self, name: str) -> _Pages:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_cloudwatch_logs_down_is_recorded_as_an_error(fresh_db_url: str) -> None:
    apply_migrations(fresh_db_url, "collectors.schema")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        stats = LogCollector(UnreachableLogs(), Partitions()).run(conn)
        recorded = conn.execute("SELECT kind, source FROM collector_errors").fetchall()
    assert stats.lines == 0
    assert recorded == [("logs_unreachable", "/aws/lambda/")]


def test_an_unchanged_queue_is_not_peeked_again_and_its_oldest_message_ages() -> None:
    sqs = FakeSqs()
    collector = QueueCollector(sqs, peek_interval_s=300)
    first = collector.run(NOW).samples[0]
    assert sqs.received == [OK] and first.peeked_at == NOW
    last = {"orders": LastPeek(first.visible, first.oldest_sent_at, first.peeked_at)}
    later = NOW + timedelta(seconds=60)
    second = collector.run(later, last).samples[0]
    assert sqs.received == [OK]  # depth unchanged within the interval: no second receive
    assert second.oldest_age_s == (first.oldest_age_s or 0) + 60
    much_later = NOW + timedelta(seconds=301)
    collector.run(much_later, last)
    assert sqs.received == [OK, OK]  # the interval passed: look again
    moved = {"orders": LastPeek(first.visible + 1, first.oldest_sent_at, first.peeked_at)}
    collector.run(later, moved)
    assert sqs.received == [OK, OK, OK]  # the depth moved: look again


class FlakyLogs:
    """One group, two streams: ``gone`` fails while ``broken`` is set; ``mixed`` holds bad lines."""

    def __init__(self) -> None:
        self.broken = True
        self.events = {
            "gone": [{"timestamp": 1_764_000_000_000, "message": "START RequestId: r1 Version: 1"}],
            "mixed": [
                {"timestamp": 1_764_000_000_000 + i, "message": m}
                for i, m in enumerate(
                    [
                        '{"level": "ERROR", "message": ',  # cut off mid-object
                        '{"x": ' + "[" * 5000 + "]" * 5000 + "}",  # nested past the decoder's depth
                        '{"_aws": {"Timestamp": "soon", "CloudWatchMetrics": []}}',  # EMF of the wrong shape
                        "plain print from a handler",
                    ]
                )
            ],
        }

    def get_paginator(self, name: str) -> _Pages:
        if name == "describe_log_groups":
            return _Pages([{"logGroups": [{"logGroupName": "/aws/lambda/f"}]}])
        return _Pages([{"logStreams": [{"logStreamName": s, "lastIngestionTime": 1} for s in self.events]}])

    def get_log_events(self, logStreamName: str, nextToken: str | None = None, **_: Any) -> dict[str, Any]:
        if logStreamName == "gone" and self.broken:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "no stream"}}, "GetLogEvents"
            )
        events = [] if nextToken else self.events[logStreamName]
        return {"events": events, "nextForwardToken": "f/end"}


def test_bad_lines_and_a_failing_stream_are_recorded_and_the_pass_goes_on(fresh_db_url: str) -> None:
    apply_migrations(fresh_db_url, "collectors.schema")
    logs = FlakyLogs()
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        first = LogCollector(logs, Partitions()).run(conn)
        assert (first.lines, first.problems) == (4, 3)
        rows = conn.execute("SELECT log_stream, seq, kind FROM log_lines ORDER BY log_stream, seq").fetchall()
        assert rows == [("mixed", 0, "text"), ("mixed", 1, "text"), ("mixed", 2, "emf"), ("mixed", 3, "text")]
        errors = conn.execute("SELECT kind, source FROM collector_errors ORDER BY id").fetchall()
        assert sorted(errors) == [
            ("emf_shape", "/aws/lambda/f mixed #2"),
            ("logs_unreachable", "/aws/lambda/f gone"),
            ("malformed_json", "/aws/lambda/f mixed #0"),
            ("malformed_json", "/aws/lambda/f mixed #1"),
        ]
        logs.broken = False  # the next pass reads the stream that failed, and nothing twice
        second = LogCollector(logs, Partitions()).run(conn)
        assert second.lines == 1
        stored = conn.execute("SELECT log_stream, count(*) FROM log_lines GROUP BY 1 ORDER BY 1").fetchall()
        assert stored == [("gone", 1), ("mixed", 4)]


def test_a_page_the_store_refuses_holds_back_its_stream_only(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_migrations(fresh_db_url, "collectors.schema")
    logs = FlakyLogs()
    logs.broken = False
    real_copy = log_store.copy_rows

    def refuse_gone(cur: psycopg.Cursor, rows: Iterable[Any], invocations: Any) -> None:
        first, rest = next(iter(rows)), rows
        if first.log_stream == "gone":
            raise psycopg.errors.NumericValueOutOfRange("integer out of range")
        real_copy(cur, chain([first], rest), invocations)

    monkeypatch.setattr(log_store, "copy_rows", refuse_gone)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        stats = LogCollector(logs, Partitions()).run(conn)
        assert stats.lines == 4 and stats.streams_read == 2
        refused = conn.execute("SELECT source, detail FROM collector_errors WHERE kind = 'log_page_refused'")
        assert [(s, "out of range" in d) for s, d in refused.fetchall()] == [("/aws/lambda/f gone", True)]
        assert read_positions(conn, "/aws/lambda/f").keys() == {"mixed"}  # "gone" is read again next pass
