"""HTTP request -> the API Gateway REST (v1) Lambda proxy event, field for field.

The shape is AWS's "input format of a Lambda function for proxy integration":
single-value maps keep the last value of a repeated header or query parameter,
the multi-value maps keep all of them, empty maps are ``null``, ``path`` is
the path as sent (percent-encoded, as REST APIs deliver it) without the stage
while ``requestContext.path`` has it, path parameters are decoded, and a body is
base64 (``isBase64Encoded: true``) when its content type is one of the API's
binary media types or it is not UTF-8 text. Header names arrive lower-cased
from the HTTP server (as over HTTP/2); handlers read them case-insensitively.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from instrumented_app.runtime.api_front.routes import RouteMatch, RouteTable


@dataclass(frozen=True)
class HttpRequest:
    """One request as received, before any API Gateway processing."""

    method: str
    path: str  # as sent (still percent-encoded), without the stage prefix
    headers: tuple[tuple[str, str], ...]  # lower-cased names, in order
    query: tuple[tuple[str, str], ...]  # decoded, in order
    body: bytes
    source_ip: str
    request_id: str
    received_at: datetime  # timezone-aware, UTC
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The last value of a header, as API Gateway's single-value map keeps it."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key == wanted:
                found = value
        return found


def multi_map(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def resource_id(resource: str) -> str:
    """A stable 6-character id per resource, the way API Gateway names resources."""
    return hashlib.sha256(resource.encode()).hexdigest()[:6]


def encode_body(
    body: bytes, content_type: str | None, binary_media_types: Sequence[str]
) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): text stays text, binary media types and non-UTF-8 bytes go base64."""
    if not body:
        return None, False
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and any(fnmatch.fnmatch(media_type, pattern.lower()) for pattern in binary_media_types):
        return base64.b64encode(body).decode("ascii"), True
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def request_time(moment: datetime) -> str:
    """``24/Nov/2026:05:33:56 +0000``, API Gateway's ``requestTime`` format (English month names)."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{moment:%d}/{months[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def build_proxy_event(request: HttpRequest, match: RouteMatch, table: RouteTable) -> dict[str, Any]:
    """The event an ``aws_proxy`` integration hands the function."""
    headers = multi_map(request.headers)
    query = multi_map(request.query)
    body, is_base64 = encode_body(request.body, request.header("content-type"), table.binary_media_types)
    host = request.header("host") or ""
    return {
        "resource": match.route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {key: values[-1] for key, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {key: values[-1] for key, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": dict(table.stage_variables) or None,
        "requestContext": {
            "accountId": table.account_id,
            "apiId": table.api_id,
            "resourceId": resource_id(match.route.resource),
            "resourcePath": match.route.resource,
            "httpMethod": request.method,
            "path": f"/{table.stage}{request.path}",
            "stage": table.stage,
            "requestId": request.request_id,
            "extendedRequestId": request.request_id,
            "requestTime": request_time(request.received_at),
            "requestTimeEpoch": int(request.received_at.timestamp() * 1000),
            "protocol": request.protocol,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "identity": {
                "accessKey": None,
                "accountId": None,
                "apiKey": None,
                "apiKeyId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": request.header("user-agent"),
                "userArn": None,
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
