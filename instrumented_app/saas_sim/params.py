"""Reading query parameters and JSON bodies with errors that name the parameter."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request


class QueryError(ValueError):
    """A parameter or body that cannot be read; the message starts with its name."""


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``params[name]`` as a whole number in ``[low, high]``, or ``default`` when absent."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise QueryError(f"{name}: must be a whole number, got {raw[:40]!r}") from exc
    if not low <= value <= high:
        raise QueryError(f"{name}: must be between {low} and {high}, got {value}")
    return value


async def read_json(request: Request) -> Any:
    """The request body as JSON; an empty or malformed body is a ``QueryError`` naming ``body``."""
    raw = await request.body()
    if not raw.strip():
        raise QueryError("body: a JSON object is required")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise QueryError(f"body: not valid JSON ({exc})") from exc
