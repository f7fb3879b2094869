"""A moto server on loopback and the data patterns' tables, for the items and event-sourcing unit tests.

Tables get unique names per test (moto's state is process-wide), with the key
schemas ``instrumented_app/template.yaml`` declares.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

from sagawatch.aws import aws_session

REGION = "us-east-1"


@contextmanager
def moto_dynamodb() -> Iterator[Any]:
    """A DynamoDB client on a fresh moto server (over HTTP), stopped afterwards."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield aws_session(REGION, endpoint).client("dynamodb", endpoint_url=endpoint)
    finally:
        server.stop()


def _table(client: Any, prefix: str, keys: list[tuple[str, str, str]], **extra: Any) -> str:
    """Create a table with (name, type, HASH|RANGE) keys; returns its unique name."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    attributes = {(n, t) for n, t, _ in keys}
    for index in extra.get("GlobalSecondaryIndexes", []):
        attributes |= {(k["AttributeName"], "S") for k in index["KeySchema"]}
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in sorted(attributes)],
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        **extra,
    )
    return name


def items_table(client: Any) -> str:
    return _table(
        client,
        "items",
        [("item_id", "S", "HASH")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-category",
                "KeySchema": [
                    {"AttributeName": "category", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def read_model_table(client: Any) -> str:
    return _table(client, "read-model", [("pk", "S", "HASH"), ("sk", "S", "RANGE")])


def event_store_table(client: Any) -> str:
    return _table(client, "events", [("aggregate_id", "S", "HASH"), ("version", "N", "RANGE")])


def views_table(client: Any) -> str:
    return _table(client, "views", [("aggregate_id", "S", "HASH")])


def inbox_table(client: Any) -> str:
    return _table(client, "inbox", [("event_id", "S", "HASH")])
