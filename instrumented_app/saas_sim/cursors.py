"""Opaque page cursors: JSON, base64url-encoded, as the vendors' cursors look from outside.

A client must treat a cursor as a token; decoding one that was tampered with
raises ``InvalidCursor`` naming what is wrong, which each service turns into
its vendor's 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


class InvalidCursor(ValueError):
    """A cursor that this simulator did not issue."""


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(token: str, required: tuple[str, ...]) -> dict[str, Any]:
    """The position in ``token``; every key in ``required`` must be present."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor(f"cursor {token[:40]!r} is not one this server issued") from exc
    if not isinstance(position, dict) or any(key not in position for key in required):
        raise InvalidCursor(f"cursor {token[:40]!r} is not one this server issued")
    return position
