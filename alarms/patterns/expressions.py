"""``&&`` / ``||`` / parentheses, shared by JSON patterns and delimited field conditions.

Precedence is the documented one: ``() > && > ||``. The caller supplies how to read one
comparison (an "atom"), since a JSON atom starts with a selector and a delimited one with a
field name.
"""

from __future__ import annotations

from collections.abc import Callable

from alarms.patterns.ast import And, Comparison, Expr, Number, Operator, Or, Selector
from alarms.patterns.scanner import Scanner
from alarms.patterns.values import parse_value

#: Longest first, so ``<=`` is not read as ``<`` followed by ``=``.
_OPERATORS: tuple[Operator, ...] = ("!=", "<=", ">=", "=", "<", ">")
_NUMERIC_ONLY = frozenset({"<", "<=", ">", ">="})

#: How deep parentheses may nest: bounds the recursion on hostile input.
MAX_NESTING = 32


def parse_or(sc: Scanner, atom: Callable[[Scanner], Expr], depth: int = 0) -> Expr:
    left = parse_and(sc, atom, depth)
    while sc.accept("||"):
        left = Or(left, parse_and(sc, atom, depth))
    return left


def parse_and(sc: Scanner, atom: Callable[[Scanner], Expr], depth: int) -> Expr:
    left = parse_primary(sc, atom, depth)
    while sc.accept("&&"):
        left = And(left, parse_primary(sc, atom, depth))
    return left


def parse_primary(sc: Scanner, atom: Callable[[Scanner], Expr], depth: int) -> Expr:
    sc.skip_ws()
    if sc.peek() == "(":
        if depth >= MAX_NESTING:
            sc.fail(f"parentheses nested more than {MAX_NESTING} deep")
        sc.pos += 1
        inner = parse_or(sc, atom, depth + 1)
        sc.expect(")", "')' to close the '('")
        return inner
    return atom(sc)


def parse_operator(sc: Scanner) -> Operator:
    sc.skip_ws()
    for op in _OPERATORS:
        if sc.text.startswith(op, sc.pos):
            if op == "=" and sc.text.startswith("==", sc.pos):
                sc.fail("'==' is not an operator; use '='")
            sc.pos += len(op)
            return op
    sc.fail("expected an operator (=, !=, <, <=, >, >=)")


def parse_comparison_tail(sc: Scanner, subject: Selector | str) -> Comparison:
    """``op value`` after a subject; numeric operators need a number, as CloudWatch insists."""
    op = parse_operator(sc)
    sc.skip_ws()
    value_at = sc.pos
    value = parse_value(sc)
    if op in _NUMERIC_ONLY and not isinstance(value, Number):
        sc.fail(f"operator {op!r} needs an unquoted number on its right", at=value_at)
    return Comparison(subject, op, value)
