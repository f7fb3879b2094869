"""The right-hand side of a comparison: a quoted string, a ``%regex%``, a number or a bare word."""

from __future__ import annotations

import re

from alarms.patterns.ast import Number, Regex, Text, Value
from alarms.patterns.regex import MAX_REGEX_PER_STRUCTURED_PATTERN, compile_regex
from alarms.patterns.scanner import Scanner

#: "integers that contain plus or minus symbols and follow scientific notation", decimals too.
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

#: What an unquoted string may hold: the docs ask for quotes around anything but letters,
#: digits and ``_``; ``.`` ``*`` ``-`` ``+`` also appear unquoted in their examples
#: (``123.123.*``, ``4*``, ``+1000``, ``1e-3``).
_BARE_OK = re.compile(r"[A-Za-z0-9_.*+\-]+")


def parse_value(sc: Scanner) -> Value:
    """Read one value at the cursor; raise ``PatternSyntaxError`` if there is none."""
    sc.skip_ws()
    start = sc.pos
    ch = sc.peek()
    if ch == '"':
        return text_value(sc.read_quoted(), quoted=True)
    if ch == "%":
        return parse_regex(sc)
    word = sc.read_word()
    if word == "":
        sc.fail('expected a value (a number, a string, "quoted text" or %regex%)', at=start)
    if NUMBER_RE.fullmatch(word):
        return Number(float(word), word)
    if not _BARE_OK.fullmatch(word):
        bad = next(i for i, c in enumerate(word) if not _BARE_OK.fullmatch(c))
        sc.fail(f"character {word[bad]!r} needs the value in double quotes", at=start + bad)
    return text_value(word, quoted=False)


def parse_regex(sc: Scanner) -> Regex:
    """``%...%`` at the cursor, validated against AWS's subset and counted for the quota."""
    sc.skip_ws()
    start = sc.pos
    body = sc.read_delimited("%", "regular expression")
    compile_regex(body, sc.pattern, sc.offset + start + 1)
    sc.regex_count += 1
    if sc.regex_count > MAX_REGEX_PER_STRUCTURED_PATTERN:
        sc.fail(
            f"at most {MAX_REGEX_PER_STRUCTURED_PATTERN} regular expressions are allowed in a JSON or "
            "space-delimited pattern",
            at=start,
        )
    return Regex(body)


def text_value(raw: str, *, quoted: bool) -> Text:
    """Split leading/trailing ``*`` wildcards off; a ``*`` inside the text is literal."""
    prefix = raw.startswith("*")
    body = raw[1:] if prefix else raw
    suffix = body.endswith("*")
    if suffix:
        body = body[:-1]
    return Text(body, prefix_wildcard=prefix, suffix_wildcard=suffix, quoted=quoted)
