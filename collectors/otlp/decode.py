"""Bytes on the wire -> ``ExportTraceServiceRequest``, for both OTLP/HTTP encodings.

OTLP's JSON encoding differs from protobuf's canonical JSON mapping in one way
that matters: trace and span ids are hex strings, not base64. They are
rewritten to base64 before ``json_format`` parses the document, so both
encodings end in the same message and one code path turns it into rows.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = (PROTOBUF, JSON)

#: Largest body accepted after decompression; a span batch from one Lambda invocation is kilobytes.
MAX_BODY_BYTES = 16 * 1024 * 1024

_ID_KEYS = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8, "parentSpanId": 8, "parent_span_id": 8}


class OtlpDecodeError(ValueError):
    """The body is not an OTLP trace export request; the message says where and why."""


def decompress(body: bytes, content_encoding: str | None, limit: int = MAX_BODY_BYTES) -> bytes:
    """Undo ``Content-Encoding: gzip/deflate`` with a size cap, so a small bomb cannot fill memory."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise OtlpDecodeError(f"Content-Encoding: {encoding!r} is not supported (use gzip, deflate or none)")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise OtlpDecodeError(f"body is not valid {encoding} data: {exc}") from exc
    if len(out) > limit:
        raise OtlpDecodeError(f"body inflates past {limit} bytes")
    if not inflater.eof:
        raise OtlpDecodeError(f"body is truncated {encoding} data")
    return out


def decode_export_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """Parse one export request; raises ``OtlpDecodeError`` naming the problem."""
    if content_type == PROTOBUF:
        return _from_protobuf(body)
    if content_type == JSON:
        return _from_json(body)
    raise OtlpDecodeError(f"content type {content_type!r} is not one of {', '.join(CONTENT_TYPES)}")


def _from_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise OtlpDecodeError(f"body is not a protobuf ExportTraceServiceRequest: {exc}") from exc
    return request


def _from_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OtlpDecodeError(f"body is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise OtlpDecodeError("body must be a JSON object with a 'resourceSpans' array")
    _hex_ids_to_base64(document, "$")
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OtlpDecodeError(f"body is not an OTLP JSON ExportTraceServiceRequest: {exc}") from exc
    return request


def _hex_ids_to_base64(node: Any, where: str) -> None:
    """Rewrite every id field in place (ids only occur in spans and links, at any depth here)."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _hex_ids_to_base64(item, f"{where}[{index}]")
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _ID_KEYS and isinstance(value, str):
            node[key] = _hex_to_base64(value, _ID_KEYS[key], f"{where}.{key}")
        elif isinstance(value, dict | list):
            _hex_ids_to_base64(value, f"{where}.{key}")


def _hex_to_base64(value: str, size: int, where: str) -> str:
    if value == "":
        return ""
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise OtlpDecodeError(f"{where}: expected {size * 2} hex digits, got {value[:64]!r}")
    return base64.b64encode(raw).decode("ascii")


__all__ = [
    "CONTENT_TYPES",
    "JSON",
    "MAX_BODY_BYTES",
    "PROTOBUF",
    "OtlpDecodeError",
    "decode_export_request",
    "decompress",
]
