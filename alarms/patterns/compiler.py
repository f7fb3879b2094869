"""AST -> matcher closures for unstructured, regex and JSON patterns (delimited: ``delimited.py``).

Everything that can be decided once is decided here, so the per-line work is a few calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from alarms.patterns.ast import (
    And,
    Comparison,
    Expr,
    IsCheck,
    JsonPattern,
    NotExists,
    Or,
    Selector,
    TermsPattern,
    Text,
)
from alarms.patterns.json_select import MISSING, compile_getter, compile_multi_getter, decode_event
from alarms.patterns.predicates import Predicate, compile_predicate
from alarms.patterns.values import NUMBER_RE

DocTest = Callable[[Any], bool]


def compile_terms(pattern: TermsPattern) -> Callable[[str], bool]:
    """Terms are case-sensitive substrings; ``?`` terms only count when they are all there is.

    "If you combine "?" with other filter patterns, all question mark terms will be ignored"
    (Matching terms in unstructured log events, "Match optional terms").
    """
    required = tuple(t.text for t in pattern.terms if t.mode == "require")
    excluded = tuple(t.text for t in pattern.terms if t.mode == "exclude")
    optional = tuple(t.text for t in pattern.terms if t.mode == "optional")
    if required or excluded:
        return lambda line: all(t in line for t in required) and not any(t in line for t in excluded)
    return lambda line: any(t in line for t in optional)


def compile_regex_search(source: str) -> Callable[[str], bool]:
    search = re.compile(source, re.ASCII).search
    return lambda line: search(line) is not None


def compile_expr(expr: Expr) -> DocTest:
    """A JSON boolean expression as ``doc -> bool``."""
    if isinstance(expr, And):
        left, right = compile_expr(expr.left), compile_expr(expr.right)
        return lambda doc: left(doc) and right(doc)
    if isinstance(expr, Or):
        left, right = compile_expr(expr.left), compile_expr(expr.right)
        return lambda doc: left(doc) or right(doc)
    if isinstance(expr, NotExists):
        return _on_selector(expr.subject, lambda v: False, exists=False)
    if isinstance(expr, IsCheck):
        wanted = {"NULL": None, "TRUE": True, "FALSE": False}[expr.what]
        return _on_selector(expr.subject, lambda v: v is wanted)
    assert isinstance(expr, Comparison) and isinstance(expr.subject, Selector)
    return _on_selector(expr.subject, compile_predicate(expr.op, expr.value))


def _on_selector(selector: Selector, test: Predicate, exists: bool = True) -> DocTest:
    """Apply ``test`` to what the selector picks (any of them, for a wildcard selector).

    With ``exists=False`` the result is "the selector picks nothing" (``NOT EXISTS``).
    """
    if selector.has_wildcard:
        get_all = compile_multi_getter(selector)
        if not exists:
            return lambda doc: not get_all(doc)
        return lambda doc: any(test(v) for v in get_all(doc))
    get = compile_getter(selector)
    if not exists:
        return lambda doc: get(doc) is MISSING
    return lambda doc: (v := get(doc)) is not MISSING and test(v)


def required_needles(expr: Expr) -> tuple[str, ...]:
    """Substrings any matching line must contain, for a cheap pre-check before ``json.loads``.

    Only exact string equalities ANDed at the top level qualify. A JSON string ``"ERROR"`` can
    be spelled with escapes (``"\\u0045RROR"``), so the caller skips the pre-check for lines
    with a backslash; without one, the value's text appears verbatim. Numbers are skipped
    (``400`` may be spelled ``4e2``), as are texts holding quotes or backslashes.
    """
    if isinstance(expr, And):
        return required_needles(expr.left) + required_needles(expr.right)
    if not (isinstance(expr, Comparison) and expr.op == "=" and isinstance(expr.value, Text)):
        return ()
    value = expr.value
    if value.text == "" or '"' in value.text or "\\" in value.text or not value.text.isprintable():
        return ()
    if value.prefix_wildcard or value.suffix_wildcard:
        return (value.text,)
    if NUMBER_RE.fullmatch(value.text):
        return (value.text,)  # may be a JSON number's text, which has no quotes
    return (f'"{value.text}"',)


def compile_json(
    pattern: JsonPattern,
) -> tuple[Callable[[str], bool], Callable[[str], dict[str, Any] | None]]:
    """``(matches, match_document)``: the bool hot path and one returning the parsed event."""
    test = compile_expr(pattern.expr)
    needles = required_needles(pattern.expr)

    def document(line: str) -> dict[str, Any] | None:
        if needles and "\\" not in line:
            for needle in needles:
                if needle not in line:
                    return None
        doc = decode_event(line)
        if doc is None or not test(doc):
            return None
        return doc

    def matches(line: str) -> bool:
        return document(line) is not None

    return matches, document
