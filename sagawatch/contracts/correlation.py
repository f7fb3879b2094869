"""The correlation id: one business transaction's name, carried across every hop.

It arrives in ``X-Correlation-Id`` or is minted at the API edge. A value taken
from a client is checked before it is trusted: it ends up in log lines, span
attributes, SQL rows and HTTP headers, so anything that could break one of
those (newlines, quotes, kilobytes of text) is refused and a fresh id minted.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

CORRELATION_ID_HEADER = "X-Correlation-Id"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
TRACEPARENT_HEADER = "traceparent"

#: Names used in SQS/SNS message attributes, EventBridge ``detail`` and DynamoDB items.
CORRELATION_ID_ATTRIBUTE = "correlation_id"
TRACEPARENT_ATTRIBUTE = "traceparent"

_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")


def mint_correlation_id() -> str:
    """A new id; UUIDs keep ids unique across Lambdas without coordination."""
    return str(uuid.uuid4())


def is_valid_correlation_id(value: str) -> bool:
    """1 to 128 characters of letters, digits and ``. _ : -``, starting with a letter or digit."""
    return bool(_VALID.match(value))


def correlation_id_from_headers(headers: Mapping[str, str] | None) -> tuple[str, bool]:
    """The request's correlation id and whether it was minted here.

    Header names are matched case-insensitively, as HTTP says; an invalid value
    is replaced rather than rejected, because refusing a business request for a
    tracing header would hurt the customer for an operator's convenience.
    """
    for name, value in (headers or {}).items():
        if name.lower() == CORRELATION_ID_HEADER.lower() and value and is_valid_correlation_id(value):
            return value, False
    return mint_correlation_id(), True
