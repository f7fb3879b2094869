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


def split_values(line: str) -> list[str]:
    """The fields of a line; an unclosed ``[`` or ``"`` runs to the end of the line."""
    return [a or b or c for a, b, c in _TOKEN.findall(line)]


def _rest_of_line(line: str, index: int) -> str:
    """The raw text from the start of field ``index`` to the end of the line."""
    for i, m in enumerate(_TOKEN.finditer(line)):
        if i == index:
            return line[m.start() :].rstrip()
    return ""


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
    ellipses = [i for i, s in enumerate(slots) if s.ellipsis]
    if not ellipses:
        return lambda line: _match_fixed(slots, line)
    if len(ellipses) == 1:
        cut = ellipses[0]
        return lambda line: _match_one_ellipsis(slots[:cut], slots[cut + 1 :], line)
    return lambda line: _match_with_ellipses(slots, line)


def _fill(out: dict[str, str], slots: tuple[_Slot, ...], values: list[str], first: int) -> bool:
    """Test ``values`` against ``slots`` and record them; ``first`` is the 0-based position of values[0]."""
    for i, (slot, value) in enumerate(zip(slots, values, strict=True)):
        if slot.test is not None and not slot.test(value):
            return False
        out[slot.key or f"${first + i + 1}"] = value
    return True


def _match_fixed(slots: tuple[_Slot, ...], line: str) -> dict[str, str] | None:
    values = split_values(line)
    n = len(slots)
    if len(values) < n:
        return None
    if len(values) > n:
        values = [*values[: n - 1], _rest_of_line(line, n - 1)]
    out: dict[str, str] = {}
    return out if _fill(out, slots, values, 0) else None


def _match_one_ellipsis(head: tuple[_Slot, ...], tail: tuple[_Slot, ...], line: str) -> dict[str, str] | None:
    """``[a, b, ..., y, z]``: the head takes the first fields, the tail the last, ``...`` the middle."""
    values = split_values(line)
    middle_end = len(values) - len(tail)
    if middle_end < len(head):
        return None
    out: dict[str, str] = {}
    if not _fill(out, head, values[: len(head)], 0):
        return None
    for i in range(len(head), middle_end):
        out[f"${i + 1}"] = values[i]
    return out if _fill(out, tail, values[middle_end:], middle_end) else None


def _match_with_ellipses(slots: tuple[_Slot, ...], line: str) -> dict[str, str] | None:
    """Several ``...``: dynamic programming over (slot, field), O(slots x fields), no recursion.

    ``ok[s][v]``: slots ``s..`` can take exactly fields ``v..``. An ellipsis takes fields one at
    a time; where several fits exist, each ellipsis takes as few fields as it can.
    """
    values = split_values(line)
    n_slots, n_values = len(slots), len(values)
    ok = [bytearray(n_values + 1) for _ in range(n_slots + 1)]
    ok[n_slots][n_values] = 1
    for si in range(n_slots - 1, -1, -1):
        slot, row, below = slots[si], ok[si], ok[si + 1]
        for vi in range(n_values, -1, -1):
            if slot.ellipsis:
                row[vi] = below[vi] or (vi < n_values and row[vi + 1])
            else:
                row[vi] = vi < n_values and below[vi + 1] and (slot.test is None or slot.test(values[vi]))
    if not ok[0][0]:
        return None
    out: dict[str, str] = {}
    vi = 0
    for si, slot in enumerate(slots):
        if slot.ellipsis:
            while not ok[si + 1][vi]:
                out[f"${vi + 1}"] = values[vi]
                vi += 1
        else:
            out[slot.key or f"${vi + 1}"] = values[vi]
            vi += 1
    return out
