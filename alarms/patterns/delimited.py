"""Matching space-delimited patterns against a log line, and extracting its fields.

A line splits on whitespace; "characters between brackets ([]) and double quotation marks
("") are considered single fields" (the delimiters are not part of the value). Without an
ellipsis, the last field takes the rest of the line, which is why the docs insist on a blank
``w2`` after ``w1=ERROR``. ``...`` stands for any number of fields. Extracted values are named
``$name`` for named fields and ``$N`` (1-based position) for the others, as TestMetricFilter
reports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from alarms.patterns.ast import And, Comparison, DelimitedPattern, Expr, Or
from alarms.patterns.predicates import compile_predicate

_TOKEN = re.compile(r'\[([^\]]*)\]?|"([^"]*)"?|(\S+)')

FieldTest = Callable[[str], bool]


@dataclass(frozen=True)
class Token:
    value: str
    start: int


def split_line(line: str) -> list[Token]:
    """The fields of a line; an unclosed ``[`` or ``"`` runs to the end of the line."""
    tokens = []
    for m in _TOKEN.finditer(line):
        value = m.group(1)
        if value is None:
            value = m.group(2)
            if value is None:
                value = m.group(3)
        tokens.append(Token(value, m.start()))
    return tokens


def _compile_condition(expr: Expr) -> FieldTest:
    if isinstance(expr, And):
        left, right = _compile_condition(expr.left), _compile_condition(expr.right)
        return lambda v: left(v) and right(v)
    if isinstance(expr, Or):
        left, right = _compile_condition(expr.left), _compile_condition(expr.right)
        return lambda v: left(v) or right(v)
    assert isinstance(expr, Comparison)
    return compile_predicate(expr.op, expr.value)


@dataclass(frozen=True)
class _Slot:
    key: str | None  # "$name", or None for an unnamed slot (reported by position)
    test: FieldTest | None
    ellipsis: bool


def compile_delimited(pattern: DelimitedPattern) -> Callable[[str], dict[str, str] | None]:
    """``line -> extracted values`` (``None`` when the line does not match)."""
    slots = tuple(
        _Slot(
            key=f"${f.name}" if f.name else None,
            test=_compile_condition(f.condition) if f.condition is not None else None,
            ellipsis=f.ellipsis,
        )
        for f in pattern.fields
    )
    if any(s.ellipsis for s in slots):
        return lambda line: _match_with_ellipsis(slots, line)
    return lambda line: _match_fixed(slots, line)


def _match_fixed(slots: tuple[_Slot, ...], line: str) -> dict[str, str] | None:
    tokens = split_line(line)
    n = len(slots)
    if len(tokens) < n:
        return None
    values = [t.value for t in tokens[: n - 1]]
    values.append(tokens[n - 1].value if len(tokens) == n else line[tokens[n - 1].start :].rstrip())
    out: dict[str, str] = {}
    for i, (slot, value) in enumerate(zip(slots, values, strict=True)):
        if slot.test is not None and not slot.test(value):
            return None
        out[slot.key or f"${i + 1}"] = value
    return out


def _match_with_ellipsis(slots: tuple[_Slot, ...], line: str) -> dict[str, str] | None:
    """Fit the slots to the tokens, ``...`` taking zero or more; memoised, so O(slots x tokens)."""
    tokens = split_line(line)
    n_slots, n_tokens = len(slots), len(tokens)
    failed: set[tuple[int, int]] = set()
    taken: list[int] = []  # for each slot, how many tokens it took

    def fit(si: int, ti: int) -> bool:
        if si == n_slots:
            return ti == n_tokens
        if (si, ti) in failed:
            return False
        slot = slots[si]
        if slot.ellipsis:
            for count in range(n_tokens - ti + 1):
                taken.append(count)
                if fit(si + 1, ti + count):
                    return True
                taken.pop()
        elif ti < n_tokens and (slot.test is None or slot.test(tokens[ti].value)):
            taken.append(1)
            if fit(si + 1, ti + 1):
                return True
            taken.pop()
        failed.add((si, ti))
        return False

    if not fit(0, 0):
        return None
    out: dict[str, str] = {}
    ti = 0
    for slot, count in zip(slots, taken, strict=True):
        for k in range(count):
            key = slot.key if (slot.key and not slot.ellipsis) else f"${ti + k + 1}"
            out[key] = tokens[ti + k].value
        ti += count
    return out
