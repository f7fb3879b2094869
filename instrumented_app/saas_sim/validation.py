"""Field checks the vendors apply: an email address's shape, a phone number in E.164."""

from __future__ import annotations

import re

import phonenumbers

# The shape vendors check (something@domain.tld), not RFC 5322; same as Zendesk's "not properly formatted".
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.match(value) is not None


def to_e164(value: str) -> str | None:
    """``+14155550123`` for a valid international number, else None (no default region is guessed)."""
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
