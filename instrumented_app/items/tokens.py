"""The opaque pagination token of ``GET /items``: DynamoDB's ``LastEvaluatedKey``, base64url JSON.

A token is only ever handed back to the same query, so decoding checks that it
is exactly the shape the GSI produces (its three key attributes, as strings)
and that it belongs to the category being listed; anything else, including a
token edited by hand, is refused with ``InvalidToken`` (a 400 naming
``next_token``), never passed on to DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

#: The attributes of a GSI ``LastEvaluatedKey``: the table's key plus the index's keys.
KEY_ATTRIBUTES = frozenset({"item_id", "category", "created_at"})


class InvalidToken(ValueError):
    """The ``next_token`` is not one this API issued for this query."""


def encode_token(last_evaluated_key: dict[str, Any]) -> str:
    text = json.dumps(last_evaluated_key, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, category: str) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` the token stands for; ``InvalidToken`` when it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidToken("is not a token this API issued") from exc
    if not isinstance(key, dict) or set(key) != KEY_ATTRIBUTES:
        raise InvalidToken("is not a token this API issued")
    for value in key.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)):
            raise InvalidToken("is not a token this API issued")
    if key["category"]["S"] != category:
        raise InvalidToken("belongs to another category")
    return key
