"""JSON patterns: ``{ $.a.b[0] = "x" && ($.n > 1e3 || $.f IS TRUE) }``."""

from __future__ import annotations

import re

from alarms.patterns.ast import Expr, IsCheck, JsonPattern, NotExists, Segment, Selector, Wildcard
from alarms.patterns.expressions import parse_comparison_tail, parse_or
from alarms.patterns.scanner import Scanner

#: "Property selectors are alphanumeric strings that support hyphen and underscore".
_NAME = re.compile(r"[A-Za-z0-9_\-]+")
_INDEX = re.compile(r"\d+")

#: Quotas from the JSON section: one wildcard in a selector, three in a compound pattern.
MAX_WILDCARDS_PER_SELECTOR = 1
MAX_WILDCARDS_PER_PATTERN = 3


def parse_json_pattern(sc: Scanner) -> JsonPattern:
    """``sc`` is positioned on the opening ``{``; the whole rest must be the JSON pattern."""
    sc.expect("{", "'{'")
    if sc.startswith("}"):
        sc.fail('empty JSON pattern: put a condition between the braces, e.g. { $.level = "ERROR" }')
    expr = parse_or(sc, _atom)
    sc.expect("}", "'&&', '||' or the closing '}'")
    if not sc.at_end():
        sc.fail("unexpected text after the closing '}'")
    return JsonPattern(expr)


def _atom(sc: Scanner) -> Expr:
    selector = parse_selector(sc)
    if sc.accept_keyword("IS"):
        if sc.accept_keyword("NULL"):
            return IsCheck(selector, "NULL")
        if sc.accept_keyword("TRUE"):
            return IsCheck(selector, "TRUE")
        if sc.accept_keyword("FALSE"):
            return IsCheck(selector, "FALSE")
        if sc.accept_keyword("NOT"):
            sc.fail("'IS NOT' is not supported by CloudWatch; use IS NULL, IS TRUE, IS FALSE or NOT EXISTS")
        sc.fail("expected NULL, TRUE or FALSE after IS")
    if sc.accept_keyword("NOT"):
        if sc.accept_keyword("EXISTS"):
            return NotExists(selector)
        sc.fail("expected EXISTS after NOT")
    if sc.accept_keyword("EXISTS"):
        sc.fail("'EXISTS' is not supported by CloudWatch; use '= *' to require a value, or NOT EXISTS")
    return parse_comparison_tail(sc, selector)


def parse_selector(sc: Scanner) -> Selector:
    """``$.name``, ``.name``, ``.*``, ``[0]``, ``[*]`` and ``['dotted.name']`` segments."""
    sc.skip_ws()
    start = sc.pos
    if not sc.text.startswith("$.", sc.pos):
        sc.fail("expected a property selector starting with '$.' (for example $.level)")
    sc.pos += 1
    segments: list[Segment] = []
    while sc.pos < len(sc.text) and sc.text[sc.pos] in ".[":
        if sc.text[sc.pos] == ".":
            sc.pos += 1
            segments.append(_dot_segment(sc))
        else:
            segments.append(_bracket_segment(sc))
    wildcards = sum(isinstance(s, Wildcard) for s in segments)
    if wildcards > MAX_WILDCARDS_PER_SELECTOR:
        sc.fail("only one wildcard selector is allowed in a property selector", at=start)
    sc.wildcard_selector_count += wildcards
    if sc.wildcard_selector_count > MAX_WILDCARDS_PER_PATTERN:
        sc.fail(f"at most {MAX_WILDCARDS_PER_PATTERN} wildcard selectors are allowed in a pattern", at=start)
    return Selector(tuple(segments), sc.text[start : sc.pos])


def _dot_segment(sc: Scanner) -> Segment:
    if sc.peek() == "*":
        sc.pos += 1
        return Wildcard()
    if sc.peek() == "[":
        return _bracket_segment(sc)
    match = _NAME.match(sc.text, sc.pos)
    if match is None:
        sc.fail("expected a property name (letters, digits, '-' or '_') after '.'")
    sc.pos = match.end()
    return match.group()


def _bracket_segment(sc: Scanner) -> Segment:
    open_at = sc.pos
    sc.pos += 1
    ch = sc.peek()
    if ch == "*":
        sc.pos += 1
        segment: Segment = Wildcard()
    elif ch in "'\"":
        end = sc.text.find(ch, sc.pos + 1)
        if end < 0:
            sc.fail("unterminated quoted property name", at=open_at)
        segment = sc.text[sc.pos + 1 : end]
        sc.pos = end + 1
    else:
        match = _INDEX.match(sc.text, sc.pos)
        if match is None:
            sc.fail("expected an array index, '*' or a quoted property name inside '[...]'")
        segment = int(match.group())
        sc.pos = match.end()
    if sc.peek() != "]":
        sc.fail("expected ']'")
    sc.pos += 1
    return segment
