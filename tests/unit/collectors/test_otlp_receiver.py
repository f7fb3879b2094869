"""The OTLP/HTTP receiver over the wire: a real OTLPSpanExporter, a real PostgreSQL audit store."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from collectors.otlp import SpanStore, TraceReceiver
from sagawatch.migrations import apply_migrations


@pytest.fixture
def audit_url(fresh_db_url: str) -> str:
    apply_migrations(fresh_db_url, "collectors.schema")
    return fresh_db_url


@pytest.fixture
def receiver_url(audit_url: str) -> Iterator[str]:
    receiver = TraceReceiver(audit_url)
    base = receiver.start()
    yield base
    receiver.stop()


def _rows(audit_url: str, where: str = "TRUE") -> list[dict[str, Any]]:
    with psycopg.connect(audit_url) as conn:
        cur = conn.execute(f"SELECT * FROM spans WHERE {where} ORDER BY start_time")
        names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _make_spans() -> list[ReadableSpan]:
    """A small trace as an app produces it: an API span, a child with an error, a linked consumer."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span(
            "POST /orders", kind=SpanKind.SERVER, attributes={"correlation_id": "order-42"}
        ) as root,
        tracer.start_as_current_span("charge card", attributes={"amount": 1200}) as child,
    ):
        child.set_status(Status(StatusCode.ERROR, "card declined"))
        child.add_event("retry", {"attempt": 2})
    with tracer.start_as_current_span(
        "process billing", kind=SpanKind.CONSUMER, links=[Link(root.get_span_context(), {"queue": "billing"})]
    ):
        pass
    return list(memory.get_finished_spans())


def test_spans_from_a_real_exporter_arrive_with_ids_parents_and_correlation(
    receiver_url: str, audit_url: str
) -> None:
    spans = _make_spans()
    exporter = OTLPSpanExporter(endpoint=receiver_url + "/v1/traces")
    assert exporter.export(spans) is SpanExportResult.SUCCESS

    by_name = {row["name"]: row for row in _rows(audit_url)}
    [root] = [s for s in spans if s.name == "POST /orders"]
    assert set(by_name) == {"POST /orders", "charge card", "process billing"}
    api = by_name["POST /orders"]
    assert api["trace_id"] == format(root.context.trace_id, "032x")
    assert api["span_id"] == format(root.context.span_id, "016x")
    assert api["parent_span_id"] is None
    assert api["kind"] == "SERVER"
    assert api["service"] == "checkout"
    assert api["resource"]["service.name"] == "checkout"
    assert api["resource"]["telemetry.sdk.language"] == "python"
    assert api["correlation_id"] == "order-42"
    assert api["duration_ms"] == pytest.approx(((root.end_time or 0) - (root.start_time or 0)) / 1e6)

    charge = by_name["charge card"]
    assert charge["trace_id"] == api["trace_id"]
    assert charge["parent_span_id"] == api["span_id"]
    assert (charge["status_code"], charge["status_message"]) == ("ERROR", "card declined")
    assert charge["attributes"] == {"amount": 1200}
    assert [(e["name"], e["attributes"]) for e in charge["events"]] == [("retry", {"attempt": 2})]

    linked = by_name["process billing"]
    assert linked["kind"] == "CONSUMER"
    assert linked["links"] == [
        {"trace_id": api["trace_id"], "span_id": api["span_id"], "attributes": {"queue": "billing"}}
    ]


def test_a_repeated_export_does_not_duplicate_spans(receiver_url: str, audit_url: str) -> None:
    spans = _make_spans()
    exporter = OTLPSpanExporter(endpoint=receiver_url + "/v1/traces", compression=Compression.Gzip)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert len(_rows(audit_url)) == len(spans)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-protobuf", b"\x0a\xff\xff\xff\xff\x0f garbage"),
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
    ],
)
def test_an_undecodable_body_gets_400_with_a_message_and_writes_nothing(
    receiver_url: str, audit_url: str, content_type: str, body: bytes
) -> None:
    response = httpx.post(receiver_url + "/v1/traces", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    if content_type == "application/json":
        assert response.json()["message"]
    else:
        assert b"protobuf" in response.content
    assert _rows(audit_url) == []


def _otlp_json(spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "billing"}}]},
                "scopeSpans": [{"scope": {"name": "manual"}, "spans": spans}],
            }
        ]
    }


_TRACE = "5b8efff798038103d269b633813fc60c"
_GOOD = {
    "traceId": _TRACE,
    "spanId": "eee19b7ec3c1b174",
    "parentSpanId": "eee19b7ec3c1b173",
    "name": "charge",
    "kind": 3,
    "startTimeUnixNano": "1544712660000000000",
    "endTimeUnixNano": "1544712661500000000",
    "attributes": [
        {"key": "correlation_id", "value": {"stringValue": "cid-json"}},
        {"key": "retries", "value": {"intValue": "3"}},
        {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"boolValue": True}]}}},
    ],
    "status": {"code": 2, "message": "boom"},
}


def test_otlp_json_with_hex_ids_is_stored_like_protobuf(receiver_url: str, audit_url: str) -> None:
    response = httpx.post(receiver_url + "/v1/traces", json=_otlp_json([_GOOD]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    [row] = _rows(audit_url)
    assert (row["trace_id"], row["span_id"], row["parent_span_id"]) == (
        _TRACE,
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b173",
    )
    assert (row["kind"], row["status_code"], row["service"]) == ("CLIENT", "ERROR", "billing")
    assert row["correlation_id"] == "cid-json"
    assert row["duration_ms"] == 1500.0
    assert row["start_time"].isoformat() == "2018-12-13T14:51:00+00:00"
    assert row["attributes"] == {"correlation_id": "cid-json", "retries": 3, "tags": ["a", True]}


def test_one_bad_span_refuses_the_whole_request(receiver_url: str, audit_url: str) -> None:
    bad = {**_GOOD, "spanId": "eee19b7ec3c1b175", "traceId": "not-hex"}
    response = httpx.post(receiver_url + "/v1/traces", json=_otlp_json([_GOOD, bad]))
    assert response.status_code == 400
    assert "spans[1].traceId" in response.json()["message"]
    assert _rows(audit_url) == []


def test_a_gzip_json_body_is_accepted(receiver_url: str, audit_url: str) -> None:
    body = gzip.compress(json.dumps(_otlp_json([_GOOD])).encode())
    response = httpx.post(
        receiver_url + "/v1/traces",
        content=body,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert len(_rows(audit_url)) == 1


def test_another_content_type_gets_415(receiver_url: str, audit_url: str) -> None:
    response = httpx.post(
        receiver_url + "/v1/traces", content=b"hello", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/x-protobuf" in response.text
    assert _rows(audit_url) == []


def test_a_store_without_the_schema_is_refused_at_start(fresh_db_url: str) -> None:
    with pytest.raises(RuntimeError, match=r"collectors\.schema"):
        TraceReceiver(fresh_db_url).start()


def test_an_unreachable_store_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://audit:s3cret@/audit?host={tmp_path}&connect_timeout=1"
    store = SpanStore(url, connect_timeout_s=1)
    with pytest.raises(RuntimeError, match="cannot connect to the audit store") as caught:
        store.open()
    assert "s3cret" not in str(caught.value)


def test_the_receiver_listens_on_loopback_only(audit_url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        TraceReceiver(audit_url, host="0.0.0.0")
    with TraceReceiver(audit_url) as receiver:
        assert receiver.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(receiver.base_url + "/v1/traces").status_code == 405
