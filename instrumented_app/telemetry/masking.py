"""PII masking for log lines: email, phone and name values never reach stdout.

Two nets, both applied to the finished JSON line:

* by key: values under a PII key, at any depth, are replaced by Powertools data
  masking's mask (``*****``). The keys are matched by one JSONPath expression
  compiled once; Powertools' ``DataMasking.erase(fields=...)`` would re-parse
  the expression on every call (about 3 ms per line measured here) and warns
  for every absent field, which is why its provider and JSONPath engine are
  used directly instead.
* by shape: anything that looks like an email address inside any string
  (a message such as ``f"welcome {email}"``) is masked too. Phone numbers and
  names in free text have no reliable shape and are not caught: log them under
  a key.

A line with neither a PII key nor an ``@`` costs two scans; only a line with
something to mask is parsed and re-serialized.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_masking.provider import BaseProvider
from jsonpath_ng.ext import parse

#: Keys whose values are personal data, in the snake_case and camelCase spellings the SaaS APIs use.
PII_KEYS: tuple[str, ...] = (
    "email",
    "email_address",
    "emailAddress",
    "phone",
    "phone_number",
    "phoneNumber",
    "mobile",
    "name",
    "full_name",
    "fullName",
    "first_name",
    "firstName",
    "last_name",
    "lastName",
    "given_name",
    "givenName",
    "family_name",
    "familyName",
)

_PROVIDER = BaseProvider()
MASK: str = _PROVIDER.erase("x")
_PII_PATH = parse("$.." + ",".join(PII_KEYS))
_PII_KEY_IN_JSON = re.compile(r'"(?:' + "|".join(re.escape(k) for k in PII_KEYS) + r')"\s*:')
#: Letters of any script: internationalized addresses (``ü@example.de``) are personal data too.
EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")


def mask_text(text: str) -> str:
    """Email addresses in free text replaced by the mask."""
    return EMAIL.sub(MASK, text)


def mask_document(document: Any) -> Any:
    """A JSON-like value with every PII key's value masked, in place (pass a copy you own)."""
    _PII_PATH.update(document, lambda value, _parent, _key: _PROVIDER.erase(value))
    return document


def mask_json_line(line: str, dumps: Callable[[Any], str] = json.dumps) -> str:
    """One serialized JSON document with PII masked by key and by shape; still one valid JSON document.

    ``dumps`` re-serializes a document that had something to mask, so the
    caller's formatting (separators, ``ensure_ascii``) is kept.
    """
    has_pii_key = _PII_KEY_IN_JSON.search(line) is not None
    has_email = "@" in line and EMAIL.search(line) is not None
    if not (has_pii_key or has_email):
        return line
    document = json.loads(line)
    if has_pii_key:
        mask_document(document)
    if has_email:
        document = _mask_strings(document)
    return dumps(document)


def _mask_strings(value: Any) -> Any:
    """Every string in a JSON value (keys too) through ``mask_text``; the text itself is not
    substituted, since an address next to an escape sequence (``\\u001bx@y.io``) would break it."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_strings(item) for item in value]
    if isinstance(value, dict):
        return {mask_text(key): _mask_strings(item) for key, item in value.items()}
    return value
