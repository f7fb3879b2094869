"""``get_log_events`` through botocore's real parsing pipeline, with and without the events handed over
unparsed: the same events and tokens, errors still raised as botocore raises them. The HTTP answer is
given by a ``before-send`` handler, so no server is needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from collectors.logs.events_unparsed import read_events_unparsed

EVENTS = [
    {"timestamp": 1_764_000_000_000 + i, "message": m, "ingestionTime": 1_764_000_000_500 + i}
    for i, m in enumerate(
        ['{"level": "INFO", "message": "caf\\u00e9"}', "START RequestId: r1", "ünïcode ✓", ""]
    )
]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body


def client_answering(status: int, document: dict[str, Any], unparsed: bool) -> Any:
    client = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client("logs")
    body = json.dumps(document).encode()
    headers = {"content-type": "application/x-amz-json-1.1"}
    client.meta.events.register(
        "before-send.cloudwatch-logs.GetLogEvents",
        lambda request, **_: AWSResponse(request.url, status, headers, _Raw(body)),
    )
    if unparsed:
        read_events_unparsed(client)
        read_events_unparsed(client)  # registering twice must not run it twice
    return client


def test_a_page_reads_the_same_with_the_events_handed_over_unparsed() -> None:
    document = {"events": EVENTS, "nextForwardToken": "f/00000003", "nextBackwardToken": "b/00000000"}
    pages = [
        client_answering(200, document, unparsed).get_log_events(
            logGroupName="/aws/lambda/f", logStreamName="s"
        )
        for unparsed in (False, True)
    ]
    for page in pages:
        page.pop("ResponseMetadata")
    assert pages[0] == pages[1]
    assert pages[1]["events"] == EVENTS and pages[1]["nextForwardToken"] == "f/00000003"


def test_an_error_answer_is_still_raised_by_botocore() -> None:
    document = {"__type": "ResourceNotFoundException", "message": "The specified log stream does not exist."}
    client = client_answering(400, document, unparsed=True)
    with pytest.raises(ClientError) as raised:
        client.get_log_events(logGroupName="/aws/lambda/f", logStreamName="gone")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
