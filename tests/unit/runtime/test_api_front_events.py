"""The pieces of a proxy event that do not need a server: body encoding, request time, maps."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from instrumented_app.runtime.api_front.events import encode_body, multi_map, request_time, resource_id


@pytest.mark.parametrize(
    ("body", "content_type", "binary_types", "expected"),
    [
        (b"", "image/png", ["image/png"], (None, False)),
        (b'{"a": 1}', "application/json", ["image/png"], ('{"a": 1}', False)),
        (
            b"\x89PNG",
            "image/png; charset=binary",
            ["image/png"],
            (base64.b64encode(b"\x89PNG").decode(), True),
        ),
        (b"GIF89a", "image/gif", ["image/*"], (base64.b64encode(b"GIF89a").decode(), True)),
        (b"plain", "text/plain", ["*/*"], (base64.b64encode(b"plain").decode(), True)),
        (b"\xff\xfe not utf-8", None, [], (base64.b64encode(b"\xff\xfe not utf-8").decode(), True)),
        ("日本語".encode(), "text/plain; charset=utf-8", [], ("日本語", False)),
    ],
)
def test_bodies_are_text_unless_binary_by_media_type_or_bytes(
    body: bytes, content_type: str | None, binary_types: list[str], expected: tuple[str | None, bool]
) -> None:
    assert encode_body(body, content_type, binary_types) == expected


def test_request_time_is_api_gateways_format() -> None:
    assert request_time(datetime(2026, 3, 5, 7, 8, 9, tzinfo=UTC)) == "05/Mar/2026:07:08:09 +0000"


def test_repeated_names_keep_every_value_in_order() -> None:
    assert multi_map([("a", "1"), ("b", "2"), ("a", "3")]) == {"a": ["1", "3"], "b": ["2"]}


def test_resource_ids_are_stable_and_distinct_per_resource() -> None:
    assert resource_id("/items/{id}") == resource_id("/items/{id}")
    assert resource_id("/items/{id}") != resource_id("/items")
    assert len(resource_id("/items")) == 6
