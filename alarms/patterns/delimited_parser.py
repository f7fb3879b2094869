"""Space-delimited patterns: ``[ip, user, ..., status_code = 4* || status_code = 5*, bytes > 1000]``."""

from __future__ import annotations

import re

from alarms.patterns.ast import And, Comparison, DelimitedPattern, Expr, Field, Or
from alarms.patterns.expressions import parse_comparison_tail, parse_or
from alarms.patterns.scanner import Scanner

_NAME = re.compile(r"[A-Za-z0-9_]+")


def parse_delimited_pattern(sc: Scanner) -> DelimitedPattern:
    """``sc`` is on the opening ``[``; fields are comma-separated up to the closing ``]``."""
    sc.expect("[", "'['")
    fields: list[Field] = []
    while True:
        fields.append(_field(sc))
        if sc.accept(","):
            continue
        sc.expect("]", "',' or the closing ']'")
        break
    if not sc.at_end():
        sc.fail("unexpected text after the closing ']'")
    if all(f.ellipsis for f in fields):
        sc.fail("a space-delimited pattern needs at least one field besides '...'", at=0)
    return DelimitedPattern(tuple(fields))


def _field(sc: Scanner) -> Field:
    sc.skip_ws()
    if sc.accept("..."):
        return Field("", ellipsis=True)
    if sc.peek() in (",", "]"):
        return Field("")  # an unnamed slot, e.g. the trailing comma in "[..., code=4*,]"
    start = sc.pos
    name = _name(sc)
    sc.skip_ws()
    if sc.peek() in (",", "]", ""):
        return Field(name)
    sc.pos = start
    condition = parse_or(sc, _atom)
    _check_single_field(sc, condition, name, start)
    return Field(name, condition)


def _name(sc: Scanner) -> str:
    sc.skip_ws()
    match = _NAME.match(sc.text, sc.pos)
    if match is None:
        sc.fail("expected a field name (letters, digits or '_'), '...' or a condition")
    sc.pos = match.end()
    return match.group()


def _atom(sc: Scanner) -> Expr:
    return parse_comparison_tail(sc, _name(sc))


def _check_single_field(sc: Scanner, expr: Expr, name: str, start: int) -> None:
    """Every condition in a slot must name that slot's field.

    CloudWatch rejects ``[..., status_code = 4* && bytes > 1000]`` as "Invalid filter pattern"
    (awsdocs/amazon-cloudwatch-logs-user-guide issue 21), so this does too, with the reason.
    """
    if isinstance(expr, And | Or):
        _check_single_field(sc, expr.left, name, start)
        _check_single_field(sc, expr.right, name, start)
    elif isinstance(expr, Comparison) and expr.subject != name:
        at = sc.text.find(str(expr.subject), start)
        sc.fail(
            f"the conditions of field {name!r} may only test {name!r}, not {expr.subject!r}; "
            "give that field its own comma-separated slot",
            at=at if at >= 0 else start,
        )
