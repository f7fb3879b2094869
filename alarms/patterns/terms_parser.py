"""Unstructured patterns: ``ERROR``, ``"exact phrase"``, ``?a ?b``, ``ERROR -ARGUMENTS``, ``%regex%``."""

from __future__ import annotations

import re

from alarms.patterns.ast import MatchAllPattern, Pattern, RegexPattern, Term, TermMode, TermsPattern
from alarms.patterns.scanner import Scanner
from alarms.patterns.values import parse_regex

#: "Metric filter terms that include characters other than alphanumeric or underscore must be
#: placed inside double quotes" (Matching terms in unstructured log events).
_BARE_TERM = re.compile(r"\w+")


def parse_terms_pattern(sc: Scanner) -> Pattern:
    sc.skip_ws()
    if sc.peek() == "%" and sc.text.rstrip().endswith("%"):
        regex = parse_regex(sc)
        if not sc.at_end():
            sc.fail("a %regex% pattern stands alone: nothing may follow the closing '%'")
        return RegexPattern(regex)
    terms: list[Term] = []
    while not sc.at_end():
        terms.append(_term(sc))
    # '" "' matches everything: blank quoted terms constrain nothing.
    terms = [t for t in terms if t.text.strip() != ""]
    if not terms:
        return MatchAllPattern()
    return TermsPattern(tuple(terms))


def _term(sc: Scanner) -> Term:
    mode: TermMode = "require"
    prefix = sc.peek()
    if prefix == "?":
        mode = "optional"
        sc.pos += 1
    elif prefix == "-":
        mode = "exclude"
        sc.pos += 1
    if mode != "require":
        sc.skip_ws()  # the earlier doc revision writes '"ERROR" - "Exiting"', with a space
    start = sc.pos
    if sc.peek() == '"':
        text = sc.read_quoted()
        if sc.pos < len(sc.text) and sc.text[sc.pos] not in " \t\r\n":
            sc.fail("a quoted term must be followed by a space or the end of the pattern")
    else:
        end = start
        while end < len(sc.text) and sc.text[end] not in " \t\r\n":
            end += 1
        text = sc.text[start:end]
        if text == "":
            sc.fail(f"expected a term after {prefix!r}" if mode != "require" else "expected a term")
        bad = _first_bad_char(text)
        if bad is not None:
            sc.fail(
                f'character {text[bad]!r} needs the term in double quotes (e.g. "{text}")',
                at=start + bad,
            )
        sc.pos = end
    sc.skip_ws()
    return Term(text, mode)


def _first_bad_char(text: str) -> int | None:
    for i, ch in enumerate(text):
        if not _BARE_TERM.fullmatch(ch):
            return i
    return None
