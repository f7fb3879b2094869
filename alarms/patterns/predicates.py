"""``op value`` as a test on one value, the same for a JSON value and a delimited field.

Rules, from the docs and from what CloudWatch is seen to do:

* string values (``"x"``, bare words, ``*`` wildcards at either end) compare against the text
  of strings and numbers; null, booleans, arrays and objects never match, with ``=`` or ``!=``
  ("If a property selector points to an array or object, the filter pattern won't match");
* numbers compare numerically against numbers (and strings that spell one); with ``!=`` a
  value that is not a number at all is "not equal" and matches;
* ``%regex%`` searches the text (``%Trail%`` matches ``UpdateTrail``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from alarms.patterns.ast import Number, Operator, Regex, Text, Value
from alarms.patterns.json_select import MISSING, scalar_number, scalar_text

Predicate = Callable[[Any], bool]

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def text_matcher(value: Text) -> Callable[[str], bool]:
    """Exact, prefix (``abc*``), suffix (``*abc``), contains (``*abc*``) or anything (``*``)."""
    body = value.text
    if value.is_match_any:
        return lambda s: True
    if value.prefix_wildcard and value.suffix_wildcard:
        return lambda s: body in s
    if value.prefix_wildcard:
        return lambda s: s.endswith(body)
    if value.suffix_wildcard:
        return lambda s: s.startswith(body)
    return lambda s: s == body


def compile_predicate(op: Operator, value: Value) -> Predicate:
    """A test of one value (``MISSING`` when the selector found nothing: never matches)."""
    if isinstance(value, Number):
        return _number_predicate(op, value.value)
    if isinstance(value, Regex):
        return _regex_predicate(op, re.compile(value.source, re.ASCII))
    return _text_predicate(op, text_matcher(value))


def _text_predicate(op: Operator, match: Callable[[str], bool]) -> Predicate:
    if op == "=":

        def equal(v: Any) -> bool:
            text = scalar_text(v)
            return text is not None and match(text)

        return equal

    def not_equal(v: Any) -> bool:
        text = scalar_text(v)
        return text is not None and not match(text)

    return not_equal


def _regex_predicate(op: Operator, rx: re.Pattern[str]) -> Predicate:
    search = rx.search
    if op == "=":
        return lambda v: (t := scalar_text(v)) is not None and search(t) is not None
    return lambda v: (t := scalar_text(v)) is not None and search(t) is None


def _number_predicate(op: Operator, target: float) -> Predicate:
    compare = _NUMERIC_OPS[op]

    def test(v: Any) -> bool:
        number = scalar_number(v)
        if number is None:
            # A string that is no number at all is "not equal" to any number; containers,
            # null, booleans and missing values match nothing.
            return op == "!=" and v is not MISSING and type(v) is str
        return compare(number, target)

    return test
