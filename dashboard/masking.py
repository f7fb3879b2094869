"""Display-time masking of PII in free text: e-mail addresses and phone numbers.

Values in the audit store are masked where they come from (Powertools' data masking in the app's
logger, the reconciler's ``mask``, the collectors' ``mask_body``); this is the second line on every
page, for text that could have slipped through unmasked (a raw log line, an error message, a body).
It hides whole values rather than keeping hints: a page shows shapes, never the value itself.
"""

from __future__ import annotations

import re

from sagawatch.redact import redact

EMAIL_MASK = "***@***"
PHONE_MASK = "***-****"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A phone: optional "+", then 9 to 15 digits allowing one separator (space, dot, dash, parens)
# between digit groups. Ids and timestamps are not phones: a digit run is only masked when it
# is not glued to letters, hex or other digits (UUIDs, trace ids, epoch millis stay readable).
_PHONE = re.compile(r"(?<![\w.:/-])\+?\(?\d{1,4}\)?(?:[ .\-]?\(?\d{2,4}\)?){2,4}(?![\w:/-])")
_DIGITS = re.compile(r"\d")


def _phone(match: re.Match[str]) -> str:
    """9 to 15 digits that start like a dialled number (+, 0, a parenthesis) or come in groups.

    A bare run of digits without a leading ``+``/``0`` is a count or an epoch, not a phone.
    """
    found = match.group(0)
    digits = len(_DIGITS.findall(found))
    dialled = found.startswith(("+", "0", "("))
    grouped = not found.isdigit()
    return PHONE_MASK if 9 <= digits <= 15 and (dialled or (grouped and digits >= 10)) else found


def mask_text(text: str | None) -> str:
    """``text`` with e-mail addresses, phone numbers and URL/keyword passwords hidden; None -> ''."""
    if not text:
        return ""
    masked = _EMAIL.sub(EMAIL_MASK, text)
    masked = _PHONE.sub(_phone, masked)
    return redact(masked)
