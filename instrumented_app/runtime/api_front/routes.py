"""The route table: which integration answers a method and a path, as API Gateway decides it.

API Gateway matches a request path against the API's resources (``/items``,
``/items/{id}``, ``/files/{proxy+}``) and then the resource's methods (an
explicit method before ``ANY``). Among several resources that match, the most
specific wins: a literal segment beats a ``{param}``, which beats a greedy
``{name+}``. A path that matches no resource, or a resource without the
method, is answered 403 "Missing Authentication Token" by the caller.

The table itself is built from the API's OpenAPI body in ``openapi.py``; this
module only holds the types and the matching, so it stays pure and testable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from instrumented_app.runtime.api_front.validation import RequestValidator

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ANY_METHOD = "ANY"

_SEGMENT_PARAM = re.compile(r"^\{([A-Za-z0-9._\-]+)\}$")
_SEGMENT_GREEDY = re.compile(r"^\{([A-Za-z0-9._\-]+)\+\}$")


class ApiDefinitionError(ValueError):
    """The API's OpenAPI body cannot be served; the message names the path and method."""


@dataclass(frozen=True)
class LambdaTarget:
    """An ``aws_proxy`` integration: the function and the qualifier (version or alias) to invoke."""

    function_name: str
    qualifier: str | None
    function_arn: str
    #: The integration's ``timeoutInMillis`` in seconds; None: the front's default (API Gateway's 29 s).
    timeout_s: float | None = None


@dataclass(frozen=True)
class MockResponse:
    """A ``mock`` integration: the fixed response API Gateway answers without any backend."""

    status_code: int
    body: str
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


Integration = LambdaTarget | MockResponse


@dataclass(frozen=True)
class _Segment:
    kind: Literal["literal", "param", "greedy"]
    value: str  # the literal text, or the parameter's name


def parse_resource(resource: str) -> tuple[_Segment, ...]:
    """``/items/{id}`` -> segments; a greedy ``{x+}`` is only allowed last, as in API Gateway."""
    if not resource.startswith("/"):
        raise ApiDefinitionError(f"resource {resource!r}: a path must start with '/'")
    parts = [part for part in resource.strip("/").split("/") if part] if resource != "/" else []
    segments: list[_Segment] = []
    for index, part in enumerate(parts):
        if greedy := _SEGMENT_GREEDY.match(part):
            if index != len(parts) - 1:
                raise ApiDefinitionError(
                    f"resource {resource!r}: a greedy {{{part}}} must be the last segment"
                )
            segments.append(_Segment("greedy", greedy.group(1)))
        elif param := _SEGMENT_PARAM.match(part):
            segments.append(_Segment("param", param.group(1)))
        elif "{" in part or "}" in part:
            raise ApiDefinitionError(f"resource {resource!r}: segment {part!r} is not a valid path parameter")
        else:
            segments.append(_Segment("literal", part))
    return tuple(segments)


@dataclass(frozen=True)
class Route:
    """One method on one resource, with what must be checked before its integration is called."""

    resource: str  # the resource path as declared, e.g. "/items/{id}"
    method: str  # "GET", "POST" ... or "ANY"
    integration: Integration
    validator: RequestValidator = field(default_factory=RequestValidator)
    segments: tuple[_Segment, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", parse_resource(self.resource))

    def match_path(self, path_segments: Sequence[str]) -> dict[str, str] | None:
        """The path parameters if ``path_segments`` (already URL-decoded) fit this resource."""
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind == "greedy":
                rest = path_segments[index:]
                if not rest:
                    return None
                params[segment.value] = "/".join(rest)
                return params
            if index >= len(path_segments):
                return None
            if segment.kind == "literal":
                if segment.value != path_segments[index]:
                    return None
            else:
                params[segment.value] = path_segments[index]
        return params if len(path_segments) == len(self.segments) else None

    @property
    def specificity(self) -> tuple[int, ...]:
        """Lower sorts first: literal (0) before {param} (1) before {greedy+} (2), segment by segment."""
        rank = {"literal": 0, "param": 1, "greedy": 2}
        return tuple(rank[segment.kind] for segment in self.segments)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


def split_path(raw_path: str) -> list[str]:
    """A request path -> decoded segments; split before decoding so ``%2F`` stays inside a segment.

    A single trailing slash is ignored (``/items/`` is ``/items``).
    """
    trimmed = raw_path[:-1] if raw_path.endswith("/") and raw_path != "/" else raw_path
    return [unquote(part) for part in trimmed.split("/")[1:]] if trimmed != "/" else []


def strip_stage(path: str, stage: str) -> str:
    """``/<stage>/items`` -> ``/items``: the execute-api URL form, served as an alias of the bare path."""
    prefix = f"/{stage}"
    if path == prefix:
        return "/"
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return path


@dataclass(frozen=True)
class RouteTable:
    """Every route of one API on one stage, plus what the proxy events say about the API."""

    routes: tuple[Route, ...]
    stage: str
    api_name: str = "local-api"
    api_id: str = "localapi01"
    account_id: str = "123456789012"
    binary_media_types: tuple[str, ...] = ()
    stage_variables: tuple[tuple[str, str], ...] = ()  # the stage's Variables, as the event carries them

    @classmethod
    def from_openapi(
        cls,
        body: dict[str, Any],
        resolve: Callable[[Any], Any],
        stage: str,
        *,
        api_id: str = "localapi01",
        account_id: str | None = None,
    ) -> RouteTable:
        """Build the table from an API's OpenAPI body (swagger 2.0 as SAM emits it, or OpenAPI 3).

        ``resolve`` turns CloudFormation intrinsics (``Fn::Sub`` in integration URIs,
        ``Ref`` in the title) into concrete values; the API name is the body's
        ``info.title``. ``account_id`` defaults to the account in the functions' ARNs.
        """
        from instrumented_app.runtime.api_front.openapi import table_from_openapi

        return table_from_openapi(body, resolve, stage, api_id=api_id, account_id=account_id)

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route answering ``method path`` (as sent, percent-encoded, without the stage), or None.

        The resource is chosen first (the most specific one matching the path), then
        the method on it: a method missing there is not looked for on a less specific
        resource such as ``/{proxy+}``.
        """
        segments = split_path(path)
        candidates: list[RouteMatch] = []
        for route in self.routes:
            params = route.match_path(segments)
            if params is not None:
                candidates.append(RouteMatch(route, params))
        if not candidates:
            return None
        best = min(found.route.specificity for found in candidates)
        on_resource = {found.route.method: found for found in candidates if found.route.specificity == best}
        return on_resource.get(method.upper()) or on_resource.get(ANY_METHOD)
