"""Reading new log events stream by stream from moto's CloudWatch Logs, over HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from alarms.engine.logtail import LogTail
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer

START_MS = 1_795_500_000_000


@pytest.fixture(scope="module")
def logs() -> Iterator[Any]:
    server = MotoServer("127.0.0.1", 0)
    endpoint = server.start()
    server.reset()
    session: Any = aws_session("us-east-1", endpoint)
    yield session.client("logs", endpoint_url=endpoint)
    server.reset()
    server.stop()


@pytest.fixture
def group(logs: Any) -> str:
    name = f"/aws/lambda/sw-{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=name)
    return name


def put(logs: Any, group: str, stream: str, messages: list[str], start_ms: int = START_MS) -> None:
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [{"timestamp": start_ms + i, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_each_event_is_read_once_across_streams_and_passes(logs: Any, group: str) -> None:
    tail = LogTail(logs)
    put(logs, group, "a", ["a1", "a2"])
    put(logs, group, "b", ["b1"])
    assert sorted(e.message for e in tail.new_events(group)) == ["a1", "a2", "b1"]
    assert tail.new_events(group) == []
    put(logs, group, "a", ["a3"], start_ms=START_MS + 1000)
    assert [e.message for e in tail.new_events(group)] == ["a3"]


def test_a_long_stream_is_read_in_bounded_passes_without_losing_its_place(logs: Any, group: str) -> None:
    put(logs, group, "long", [f"line {i}" for i in range(10)])
    tail = LogTail(logs, max_pages=2, page_limit=3)
    assert [e.message for e in tail.new_events(group)] == [f"line {i}" for i in range(6)]
    assert [e.message for e in tail.new_events(group)] == [f"line {i}" for i in range(6, 10)]
    assert tail.new_events(group) == []


def test_a_group_that_does_not_exist_yet_has_no_events(logs: Any) -> None:
    assert LogTail(logs).new_events("/aws/lambda/never-ran") == []
