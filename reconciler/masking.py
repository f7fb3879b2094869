"""Partial masking of PII values before they enter a finding.

Powertools' data masking does the work (``DataMasking.erase`` with a regex
and a replacement format): we only choose, per kind of PII, what little may
show. A fully erased value (``*****``, Powertools' default) would make every
name/email/phone mismatch look identical in a report; keeping a hint (first
letter, e-mail top-level domain, country code and last two digits) lets an
operator tell "wrong country code" from "different person" without the
report ever holding the value itself.
"""

from __future__ import annotations

from enum import StrEnum

from aws_lambda_powertools.utilities.data_masking import DataMasking


class PiiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"


_MASKER = DataMasking()

# (regex, replacement) per kind; a value the regex does not match is erased whole below.
_RULES: dict[PiiKind, tuple[str, str]] = {
    # t***@***.jp: first character of the local part and the last domain label.
    PiiKind.EMAIL: (r"^(.)[^@]*@[^@]*?(\.[^.@]+)?$", r"\1***@***\2"),
    # +81*****78: the "+" and up to two digits of country code, then the last two digits.
    PiiKind.PHONE: (r"^(\+?\d{0,2})\d*(\d{2})$", r"\1*****\2"),
    # Y*** T***: the first character of each word; a one-character word is hidden whole.
    PiiKind.NAME: (r"(\S)\S+|\S", r"\1***"),
}

_FULLY_ERASED = "*****"


def mask(value: str | None, kind: PiiKind) -> str | None:
    """``value`` with all but a hint hidden; ``None`` stays ``None``.

    A value too short to keep a hint safely (a phone of under six digits, an
    e-mail without ``@``) is erased whole.
    """
    if value is None:
        return None
    pattern, replacement = _RULES[kind]
    if (kind is PiiKind.PHONE and len(value) < 6) or (kind is PiiKind.EMAIL and "@" not in value):
        return _FULLY_ERASED
    masked = _MASKER.erase(value, regex_pattern=pattern, mask_format=replacement)
    if not isinstance(masked, str) or masked == value:
        return _FULLY_ERASED
    return masked
