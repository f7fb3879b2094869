"""``compile_pattern(text) -> FilterPattern``: compile once, then match many lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from alarms.patterns.ast import (
    DelimitedPattern,
    JsonPattern,
    MatchAllPattern,
    Pattern,
    PatternKind,
    RegexPattern,
    TermsPattern,
)
from alarms.patterns.compiler import compile_json, compile_regex_search, compile_terms
from alarms.patterns.delimited import compile_delimited
from alarms.patterns.parser import parse_pattern

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Match:
    """What a matching line yields: TestMetricFilter's ``extractedValues``, and the parsed event.

    ``document`` is the decoded JSON object for JSON patterns (so a metric filter can read
    ``$.latency`` without decoding twice) and ``None`` otherwise.
    """

    extracted: Mapping[str, str] = field(default_factory=dict)
    document: dict[str, Any] | None = None


class FilterPattern:
    """A compiled CloudWatch Logs filter pattern.

    ``matches(line)`` is the fast yes/no; ``extract(line)`` gives the extracted values of a
    space-delimited pattern (``{}`` for other kinds) or ``None`` when the line does not match.
    """

    def __init__(
        self,
        text: str,
        ast: Pattern,
        kind: PatternKind,
        matches: Callable[[str], bool],
        match: Callable[[str], Match | None],
    ) -> None:
        self.text = text
        self.ast = ast
        self.kind = kind
        self.matches = matches
        self.match = match

    def extract(self, line: str) -> dict[str, str] | None:
        found = self.match(line)
        return None if found is None else dict(found.extracted)

    def __repr__(self) -> str:
        return f"FilterPattern({self.text!r}, kind={self.kind.value})"


@lru_cache(maxsize=512)
def compile_pattern(text: str) -> FilterPattern:
    """Parse and compile ``text``; raises ``PatternSyntaxError`` pointing at the problem."""
    ast = parse_pattern(text)
    if isinstance(ast, MatchAllPattern):
        return _from_bool(text, ast, PatternKind.MATCH_ALL, lambda line: True)
    if isinstance(ast, TermsPattern):
        return _from_bool(text, ast, PatternKind.TERMS, compile_terms(ast))
    if isinstance(ast, RegexPattern):
        return _from_bool(text, ast, PatternKind.REGEX, compile_regex_search(ast.regex.source))
    if isinstance(ast, JsonPattern):
        matches, document = compile_json(ast)

        def match_json(line: str) -> Match | None:
            doc = document(line)
            return None if doc is None else Match(_EMPTY, doc)

        return FilterPattern(text, ast, PatternKind.JSON, matches, match_json)
    assert isinstance(ast, DelimitedPattern)
    extract = compile_delimited(ast)

    def match_delimited(line: str) -> Match | None:
        values = extract(line)
        return None if values is None else Match(values)

    return FilterPattern(
        text, ast, PatternKind.DELIMITED, lambda line: extract(line) is not None, match_delimited
    )


def _from_bool(text: str, ast: Pattern, kind: PatternKind, test: Callable[[str], bool]) -> FilterPattern:
    matched = Match(_EMPTY)
    return FilterPattern(text, ast, kind, test, lambda line: matched if test(line) else None)
