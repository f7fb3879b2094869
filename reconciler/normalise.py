"""Normalisation: turn each system's spelling of a value into one comparable form.

Every function here is pure and total on the inputs a source can produce
(``None``, strings, datetimes): two values are equal after normalisation
exactly when an operator would call them the same. Unknown shapes are kept
(compacted) rather than rejected, so a malformed SaaS value shows up as a
mismatch instead of aborting a sweep.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any

import phonenumbers

#: What a normaliser returns: ``None`` (no value), a string, or a tuple of name tokens.
Normalised = str | tuple[tuple[str, ...], ...] | None


class FieldKind(StrEnum):
    """How a mapped field is normalised and compared."""

    TEXT = "text"  # NFKC + whitespace collapsed, case kept
    EMAIL = "email"  # NFKC + trimmed + case-folded
    PHONE = "phone"  # E.164, national numbers read in the mapping's default region
    PERSON_NAME = "person_name"  # (family, given) columns or one string in either order
    CODE = "code"  # enum-like values: trimmed, upper-cased


def canonical_key(value: object) -> str:
    """The link key every source sorts by: trimmed and upper-cased.

    Support's ``external_id`` matches case-insensitively, so all systems
    share one case-insensitive key; sources must sort by this string in code
    point order (PostgreSQL: ``ORDER BY upper(cust_no) COLLATE "C"``).
    A missing key becomes ``""``, which sorts first and never matches Aurora.
    """
    if value is None:
        return ""
    return str(value).strip().upper()


def _nfkc(value: str) -> str:
    # Full-width Latin letters, digits and the ideographic space are common in Japanese input.
    return unicodedata.normalize("NFKC", value)


def _fold(text: str) -> str:
    """Caseless form, NFKC again after case folding (which can leave uncomposed sequences)."""
    return _nfkc(text.casefold())


def normalise_text(value: object) -> str | None:
    """Whitespace runs collapse to one space, ends trimmed; empty means no value."""
    if value is None:
        return None
    text = " ".join(_nfkc(str(value)).split())
    return text or None


def normalise_email(value: object) -> str | None:
    """Trimmed and case-folded: ``Taro@Example.COM `` equals ``taro@example.com``.

    The local part is case-sensitive in RFC 5321 but no provider we sync to
    treats it so, and every SaaS here lower-cases on write.
    """
    text = normalise_text(value)
    return _fold(text.replace(" ", "")) if text else None


def normalise_code(value: object) -> str | None:
    """Enum-like values (statuses): trimmed and upper-cased."""
    text = normalise_text(value)
    return text.upper() if text else None


_PHONE_SEPARATORS = re.compile(r"[\s\-().\u2010-\u2015\u30fc]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(value: object, default_region: str) -> str | None:
    """E.164 (``+819012345678``); national numbers are read in ``default_region``.

    Already-E.164 input skips ``phonenumbers`` (about 20 µs a parse, which
    would dominate a million-row sweep). Input that does not parse as a
    possible number is returned compacted, so it still compares (and shows)
    as itself.
    """
    if value is None:
        return None
    compact = _PHONE_SEPARATORS.sub("", _nfkc(str(value)))
    if not compact:
        return None
    if _E164.match(compact):
        return compact
    try:
        number = phonenumbers.parse(compact, default_region)
    except phonenumbers.NumberParseException:
        return compact
    if not phonenumbers.is_possible_number(number):
        return compact
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _name_tokens(value: object) -> tuple[str, ...]:
    text = normalise_text(value)
    return tuple(_fold(text).split()) if text else ()


def normalise_person_name(values: tuple[Any, ...]) -> Normalised:
    """Names as token tuples, one tuple per column: ``(("yamada",), ("taro",))``.

    Two columns are (family, given) in that order; one column is a full name
    whose order is unknown (``names_equal`` tries both). ``None`` when empty.
    """
    parts = tuple(_name_tokens(v) for v in values)
    return parts if any(parts) else None


def names_equal(left: Normalised, right: Normalised) -> bool:
    """Equal names: same parts, or a one-column name that is family+given or given+family.

    Whitespace inside a one-column name is optional when it has none at all:
    ``山田太郎`` equals (山田, 太郎), but ``Johns Mith`` does not equal (Smith, John).
    """
    if left == right:
        return True
    if not isinstance(left, tuple) or not isinstance(right, tuple):
        return False
    if len(left) == len(right):
        return False
    structured, single = (left, right) if len(left) > len(right) else (right, left)
    if len(structured) != 2 or len(single) != 1:
        return False
    family, given = structured
    tokens = single[0]
    if len(tokens) == 1:
        return tokens[0] in ("".join(family + given), "".join(given + family))
    return tokens in (family + given, given + family)


def to_utc(value: object, default_tz: tzinfo = UTC) -> datetime:
    """A timestamp as an aware UTC datetime; naive input is read in ``default_tz``.

    Accepts datetimes, ISO 8601 strings (``Z`` or an offset, as Zendesk and
    Shopify send them) and epoch seconds (Zendesk's incremental ``start_time``).
    """
    if isinstance(value, datetime):
        if value.tzinfo is UTC:
            return value  # the common case (psycopg in a UTC session): nothing to convert
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from exc
        if moment.tzinfo is UTC:
            return moment  # "...Z", as every SaaS here sends it
    else:
        raise ValueError(f"not a timestamp: {value!r} ({type(value).__name__})")
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=default_tz)
    return moment.astimezone(UTC)


def normalise(kind: FieldKind, values: tuple[Any, ...], default_region: str) -> Normalised:
    """One field's values (one per mapped column) in comparable form."""
    if kind is FieldKind.PERSON_NAME:
        return normalise_person_name(values)
    (value,) = values
    if kind is FieldKind.EMAIL:
        return normalise_email(value)
    if kind is FieldKind.PHONE:
        return normalise_phone(value, default_region)
    if kind is FieldKind.CODE:
        return normalise_code(value)
    return normalise_text(value)


def equal(kind: FieldKind, left: Normalised, right: Normalised) -> bool:
    """Whether two normalised values of one kind mean the same thing."""
    if kind is FieldKind.PERSON_NAME:
        return names_equal(left, right)
    return left == right


def display(kind: FieldKind, raw: tuple[Any, ...], value: Normalised) -> str | None:
    """How a finding shows a value (before masking).

    Names show as written (whitespace collapsed), since case-folded tokens
    read badly; everything else shows normalised, so a phone appears in the
    E.164 form it was compared in.
    """
    if kind is FieldKind.PERSON_NAME:
        return normalise_text(" ".join(str(v) for v in raw if v is not None))
    return value if isinstance(value, str) or value is None else str(value)
