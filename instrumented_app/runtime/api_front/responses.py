"""What goes back to the HTTP client: the function's proxy response, a mock's, or a gateway error.

A Lambda proxy response is ``{"statusCode", "headers", "multiValueHeaders",
"body", "isBase64Encoded"}``. API Gateway answers 502 ``{"message": "Internal
server error"}`` when the function failed or its response does not have that
shape (no integer ``statusCode``, a non-string ``body``, bad base64), and its
own errors carry ``x-amzn-ErrorType``. Those rules are reproduced here as pure
functions; the server only writes the result to the socket.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from instrumented_app.runtime.api_front.routes import MockResponse
from instrumented_app.runtime.api_front.validation import ValidationFailure

JSON = "application/json"
#: An HTTP header name (RFC 9110 token).
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # repeated names allowed, in order
    #: Milliseconds the integration took (None when no integration ran: errors before it).
    integration_ms: float | None = field(default=None, compare=False)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def with_headers(self, extra: tuple[tuple[str, str], ...]) -> HttpResponse:
        """Extra headers replace any of the same name the integration set."""
        names = {key.lower() for key, _ in extra}
        kept = tuple((key, value) for key, value in self.headers if key.lower() not in names)
        return HttpResponse(self.status_code, self.body, kept + extra, self.integration_ms)


def gateway_error(status_code: int, message: str, error_type: str) -> HttpResponse:
    """An error API Gateway itself answers, e.g. 403 MissingAuthenticationTokenException."""
    return _json_response(status_code, {"message": message}, (("x-amzn-ErrorType", error_type),))


def missing_route() -> HttpResponse:
    """API Gateway's answer to a path or method the API does not declare."""
    return gateway_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")


def internal_error(integration_ms: float | None = None) -> HttpResponse:
    """502: the function failed, or answered something that is not a proxy response."""
    response = gateway_error(502, "Internal server error", "InternalServerErrorException")
    return HttpResponse(response.status_code, response.body, response.headers, integration_ms)


def integration_timeout() -> HttpResponse:
    return gateway_error(504, "Endpoint request timed out", "InternalServerErrorException")


def payload_too_large() -> HttpResponse:
    return gateway_error(413, "Request Too Long", "RequestTooLongException")


def validation_error(failure: ValidationFailure) -> HttpResponse:
    """400 naming each field and its problem; the Lambda was never invoked."""
    return _json_response(400, failure.as_body(), (("x-amzn-ErrorType", "BadRequestException"),))


def from_mock(mock: MockResponse) -> HttpResponse:
    return HttpResponse(
        mock.status_code,
        mock.body.encode("utf-8"),
        (("Content-Type", mock.content_type), *mock.headers),
        integration_ms=0.0,
    )


def from_proxy_payload(payload: Any, integration_ms: float) -> HttpResponse:
    """The function's return value as HTTP, or a 502 if it is not a valid proxy response."""
    if not isinstance(payload, Mapping):
        return internal_error(integration_ms)
    status = payload.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return internal_error(integration_ms)
    body = _body_bytes(payload.get("body"), bool(payload.get("isBase64Encoded")))
    headers = _merged_headers(payload.get("headers"), payload.get("multiValueHeaders"))
    if body is None or headers is None:
        return internal_error(integration_ms)
    if not any(key.lower() == "content-type" for key, _ in headers):
        headers = (*headers, ("Content-Type", JSON))  # API Gateway's default for a proxy response
    return HttpResponse(status, body, headers, integration_ms)


def _body_bytes(body: Any, is_base64: bool) -> bytes | None:
    if body is None:
        return b""
    if not isinstance(body, str):
        return None
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def _merged_headers(single: Any, multi: Any) -> tuple[tuple[str, str], ...] | None:
    """API Gateway's merge: a name in ``multiValueHeaders`` wins over the same name in ``headers``.

    None when either is not a map of valid header names to scalar values (a malformed response).
    """
    if single is not None and not isinstance(single, Mapping):
        return None
    if multi is not None and not isinstance(multi, Mapping):
        return None
    pairs: list[tuple[Any, Any]] = []
    multi_names = {str(name).lower() for name in (multi or {})}
    pairs.extend(
        (name, value) for name, value in (single or {}).items() if str(name).lower() not in multi_names
    )
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            return None
        pairs.extend((name, value) for value in values)
    merged: list[tuple[str, str]] = []
    for name, value in pairs:
        text = _header_text(value)
        if not isinstance(name, str) or not _TOKEN.match(name) or text is None:
            return None
        merged.append((name, text))
    return tuple(merged)


def _header_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        text = str(value)
        return None if "\r" in text or "\n" in text else text
    return None


def _json_response(
    status_code: int, body: dict[str, Any], extra: tuple[tuple[str, str], ...] = ()
) -> HttpResponse:
    return HttpResponse(status_code, json.dumps(body).encode("utf-8"), (("Content-Type", JSON), *extra))
