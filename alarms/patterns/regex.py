"""``%regex%`` terms: AWS's allowed subset, checked up front, compiled with Python's ``re``.

CloudWatch accepts only ASCII letters and digits, the symbols ``: _ # = @ / ; , -``, the
operators ``^ $ ? [ ] { } | \\ * + .`` and the escapes ``\\d \\D \\s \\S \\w \\W \\xhh``; no
parentheses, no multi-byte characters ("Supported regular expressions (regex) syntax"). The
doc's own example ``%^starting|^initializing|^shutting down%`` has a space, so a space is
accepted too. Everything else is rejected here, as CloudWatch would, rather than silently
meaning something different in Python.
"""

from __future__ import annotations

import re

from alarms.patterns.errors import PatternSyntaxError

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_#=@/;,- ^$?[]{}|\\*+.")
_CLASS_ESCAPES = frozenset("dDsSwW")
_HEX = frozenset("0123456789abcdefABCDEF")

#: "There is a limit of 2 regex for each filter pattern when creating a delimited or JSON
#: filter pattern" (Supported regular expressions (regex) syntax, Quotas).
MAX_REGEX_PER_STRUCTURED_PATTERN = 2


def validate_regex(body: str, pattern: str, start: int) -> None:
    """Raise ``PatternSyntaxError`` unless ``body`` (the text between the ``%``) is allowed.

    ``start`` is the position of ``body``'s first character in ``pattern``.
    """
    if body == "":
        raise PatternSyntaxError("empty regular expression between '%' signs", pattern, start - 1)
    i = 0
    while i < len(body):
        ch = body[i]
        pos = start + i
        if ord(ch) > 127:
            raise PatternSyntaxError(
                f"multi-byte character {ch!r} is not supported in a CloudWatch regex", pattern, pos
            )
        if ch in "()":
            raise PatternSyntaxError(
                "parentheses are not supported in a CloudWatch regex (use \\x28 or \\x29 to match them)",
                pattern,
                pos,
            )
        if ch not in _ALLOWED:
            raise PatternSyntaxError(f"character {ch!r} is not allowed in a CloudWatch regex", pattern, pos)
        if ch == "\\":
            i = _check_escape(body, i, pattern, start)
            continue
        i += 1


def _check_escape(body: str, i: int, pattern: str, start: int) -> int:
    """Validate the escape at ``body[i]``; return the index just after it."""
    if i + 1 >= len(body):
        raise PatternSyntaxError("regex ends with a lone backslash", pattern, start + i)
    nxt = body[i + 1]
    if nxt in _CLASS_ESCAPES:
        return i + 2
    if nxt == "x":
        digits = body[i + 2 : i + 4]
        if len(digits) != 2 or any(d not in _HEX for d in digits):
            raise PatternSyntaxError("\\x must be followed by two hexadecimal digits", pattern, start + i)
        return i + 4
    if nxt.isalnum():
        raise PatternSyntaxError(
            f"unsupported escape \\{nxt} (CloudWatch supports \\d \\D \\s \\S \\w \\W \\xhh)",
            pattern,
            start + i,
        )
    return i + 2


def compile_regex(body: str, pattern: str, start: int) -> re.Pattern[str]:
    """Validate and compile; ``re.ASCII`` keeps ``\\d``/``\\w``/``\\s`` to the documented ASCII sets."""
    validate_regex(body, pattern, start)
    try:
        return re.compile(body, re.ASCII)
    except re.error as exc:
        offset = exc.pos if exc.pos is not None else 0
        raise PatternSyntaxError(f"invalid regular expression: {exc.msg}", pattern, start + offset) from None
