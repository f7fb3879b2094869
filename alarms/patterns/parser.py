"""Text -> AST: decide which of the four pattern families a pattern is, and parse it."""

from __future__ import annotations

from alarms.patterns.ast import MatchAllPattern, Pattern
from alarms.patterns.delimited_parser import parse_delimited_pattern
from alarms.patterns.errors import PatternSyntaxError
from alarms.patterns.json_parser import parse_json_pattern
from alarms.patterns.scanner import Scanner
from alarms.patterns.terms_parser import parse_terms_pattern

#: ``filterPattern``: "Length Constraints: Minimum length of 0. Maximum length of 1024."
MAX_PATTERN_LENGTH = 1024


def parse_pattern(text: str) -> Pattern:
    """Parse ``text``; raise ``PatternSyntaxError`` (with a position) if CloudWatch would reject it."""
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternSyntaxError(
            f"a filter pattern is at most {MAX_PATTERN_LENGTH} characters (this one has {len(text)})",
            text,
            MAX_PATTERN_LENGTH,
        )
    sc = Scanner(text, text)
    if sc.at_end():
        return MatchAllPattern()
    first = sc.peek()
    if first == "{":
        return parse_json_pattern(sc)
    if first == "[":
        return parse_delimited_pattern(sc)
    return parse_terms_pattern(sc)
