"""The parsed form of a filter pattern: plain, frozen dataclasses, one per construct.

The parser (``parser.py`` and friends) produces these; the compiler (``compiler.py``) turns
them into matcher closures. Keeping them apart means the grammar and the matching rules can
each be read, and tested, without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal as TypingLiteral


class PatternKind(StrEnum):
    """Which of CloudWatch's four pattern families a pattern belongs to."""

    MATCH_ALL = "match_all"
    TERMS = "terms"
    REGEX = "regex"
    JSON = "json"
    DELIMITED = "delimited"


# --- values on the right-hand side of a comparison -------------------------------------------


@dataclass(frozen=True)
class Text:
    """A string value, quoted or not; ``*`` at either end is a wildcard, inside it is literal."""

    text: str
    prefix_wildcard: bool = False
    suffix_wildcard: bool = False
    quoted: bool = False

    @property
    def is_match_any(self) -> bool:
        """``*`` (or ``**``) alone: matches any scalar value, the empty string included."""
        return (self.prefix_wildcard or self.suffix_wildcard) and self.text == ""


@dataclass(frozen=True)
class Number:
    """An unquoted numeric literal (integer, decimal or exponent notation, optional sign)."""

    value: float
    text: str


@dataclass(frozen=True)
class Regex:
    """A ``%...%`` regular expression, already validated against AWS's allowed subset."""

    source: str


Value = Text | Number | Regex

Operator = TypingLiteral["=", "!=", "<", "<=", ">", ">="]


# --- JSON property selectors ----------------------------------------------------------------


@dataclass(frozen=True)
class Wildcard:
    """``[*]`` or ``.*``: any array element or any object member."""


Segment = str | int | Wildcard


@dataclass(frozen=True)
class Selector:
    """``$.a.b[0]['c.d'][*]`` as its segments; ``text`` is kept for messages and dimensions."""

    segments: tuple[Segment, ...]
    text: str

    @property
    def has_wildcard(self) -> bool:
        return any(isinstance(s, Wildcard) for s in self.segments)


# --- boolean expressions (JSON patterns, and the conditions of a delimited field) ------------


@dataclass(frozen=True)
class Comparison:
    """``subject op value``; the subject is a JSON selector, or a field name when delimited."""

    subject: Selector | str
    op: Operator
    value: Value


@dataclass(frozen=True)
class IsCheck:
    """``$.x IS NULL`` / ``IS TRUE`` / ``IS FALSE``."""

    subject: Selector
    what: TypingLiteral["NULL", "TRUE", "FALSE"]


@dataclass(frozen=True)
class NotExists:
    """``$.x NOT EXISTS``."""

    subject: Selector


@dataclass(frozen=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Or:
    left: Expr
    right: Expr


Expr = Comparison | IsCheck | NotExists | And | Or


# --- whole patterns -------------------------------------------------------------------------


TermMode = TypingLiteral["require", "optional", "exclude"]


@dataclass(frozen=True)
class Term:
    """One unstructured term; ``mode`` is how it was prefixed (nothing, ``?`` or ``-``)."""

    text: str
    mode: TermMode


@dataclass(frozen=True)
class TermsPattern:
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class RegexPattern:
    regex: Regex


@dataclass(frozen=True)
class MatchAllPattern:
    """The empty pattern, or a quoted blank (``" "``): every event matches."""


@dataclass(frozen=True)
class JsonPattern:
    expr: Expr


@dataclass(frozen=True)
class Field:
    """One comma-separated slot of a space-delimited pattern; ``ellipsis`` for ``...``."""

    name: str
    condition: Expr | None = None
    ellipsis: bool = False


@dataclass(frozen=True)
class DelimitedPattern:
    fields: tuple[Field, ...]


Pattern = MatchAllPattern | TermsPattern | RegexPattern | JsonPattern | DelimitedPattern
