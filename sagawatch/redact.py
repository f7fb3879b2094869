"""Secrets out of what people read: connection URLs are printed without their passwords."""

from __future__ import annotations

import re

_URL_PASSWORD = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@", re.I
)
_KEYWORD_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<value>'[^']*'|\S+)", re.I)


def redact(text: str) -> str:
    """Mask ``scheme://user:secret@host`` as ``scheme://user:***@host``, and ``password=x`` likewise."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m['key']}***", text)
