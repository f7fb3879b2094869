"""Reading values out of a parsed JSON event by selector, and their scalar views.

CloudWatch compares a selector's value as text (string comparisons, wildcards, regex) or as a
number (numeric comparisons). A JSON number's text is the text it had in the log line, so
``{ $.someFloat2 != "12" }`` matches ``12.0``: floats are decoded keeping their raw text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from alarms.patterns.ast import Selector, Wildcard
from alarms.patterns.values import NUMBER_RE


class _Missing:
    """The value of a selector that selects nothing (distinct from JSON ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class RawFloat(float):
    """A float that remembers how the log line spelled it (``1e3``, ``12.0``)."""

    raw: str


def _parse_float(text: str) -> float:
    value = RawFloat(text)
    value.raw = text
    return value


_DECODER = json.JSONDecoder(parse_float=_parse_float)


def decode_event(line: str) -> dict[str, Any] | None:
    """The event as a JSON object, or ``None`` when it is not one (JSON patterns then never match)."""
    try:
        doc = _DECODER.decode(line)
    except ValueError:
        return None
    return doc if type(doc) is dict else None


def scalar_text(value: Any) -> str | None:
    """The text a string comparison sees: strings and numbers; never null, booleans or containers."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is RawFloat:
        return value.raw
    if kind is float:
        return repr(value)
    return None


def scalar_number(value: Any) -> float | None:
    """The number a numeric comparison sees: JSON numbers, and strings that spell a number."""
    kind = type(value)
    if kind is int or kind is float or kind is RawFloat:
        return float(value)
    if kind is str and NUMBER_RE.fullmatch(value):
        return float(value)
    return None


def compile_getter(selector: Selector) -> Callable[[Any], Any]:
    """``doc -> value`` (or ``MISSING``) for a selector without wildcards."""
    segments = selector.segments
    if len(segments) == 1 and isinstance(segments[0], str):
        key = segments[0]
        return lambda doc: doc.get(key, MISSING) if type(doc) is dict else MISSING

    def get(doc: Any) -> Any:
        node = doc
        for seg in segments:
            if isinstance(seg, str):
                if type(node) is not dict:
                    return MISSING
                node = node.get(seg, MISSING)
            elif isinstance(seg, int):
                if type(node) is not list or seg >= len(node):
                    return MISSING
                node = node[seg]
            if node is MISSING:
                return MISSING
        return node

    return get


def compile_multi_getter(selector: Selector) -> Callable[[Any], list[Any]]:
    """``doc -> [values]`` for a selector with a ``*``: every array element / object member."""
    segments = selector.segments

    def get(doc: Any) -> list[Any]:
        nodes = [doc]
        for seg in segments:
            nxt: list[Any] = []
            for node in nodes:
                if isinstance(seg, Wildcard):
                    if type(node) is dict:
                        nxt.extend(node.values())
                    elif type(node) is list:
                        nxt.extend(node)
                elif isinstance(seg, str):
                    if type(node) is dict and seg in node:
                        nxt.append(node[seg])
                elif type(node) is list and seg < len(node):
                    nxt.append(node[seg])
            nodes = nxt
        return nodes

    return get


def select(selector: Selector, doc: Any) -> list[Any]:
    """All values ``selector`` picks out of ``doc`` (empty when none); for metric values and dimensions."""
    if selector.has_wildcard:
        return compile_multi_getter(selector)(doc)
    value = compile_getter(selector)(doc)
    return [] if value is MISSING else [value]
