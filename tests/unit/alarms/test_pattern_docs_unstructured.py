"""Conformance: every example of the unstructured and regex sections of the AWS doc.

Source: "Filter pattern syntax for metric filters, subscription filters, filter log events,
and Live Tail" (CloudWatch Logs User Guide). Each case id names the doc section and example.
"""

from __future__ import annotations

import pytest

from alarms.patterns import PatternSyntaxError, compile_pattern

# The doc's sample lines for the unstructured examples.
BAD_REQUEST = "[ERROR 400] BAD REQUEST"
UNAUTHORIZED = "[ERROR 401] UNAUTHORIZED REQUEST"
MISSING_ARGS = "[ERROR 419] MISSING ARGUMENTS"
INVALID_ARGS = "[ERROR 420] INVALID ARGUMENTS"
INTERNAL = "[ERROR 500] INTERNAL SERVER ERROR"
AUTHORIZED = "[SUCCESS 200] AUTHORIZED REQUEST"
INFO_FAILED = "[INFO] REQUEST FAILED"
WARN_UNAUTH = "[WARN] UNAUTHORIZED REQUEST"
ERROR_400_BAD = "[ERROR] 400 BAD REQUEST"
INFO_OK = "[INFO 200] SUCCESSFUL REQUEST"

CASES = [
    # (id, pattern, lines that match, lines that do not)
    ("regex-terms/%AUTHORIZED%", "%AUTHORIZED%", [UNAUTHORIZED, AUTHORIZED], [BAD_REQUEST]),
    (
        "unstructured/match-a-single-term",
        "ERROR",
        [BAD_REQUEST, UNAUTHORIZED, MISSING_ARGS, INVALID_ARGS],
        [AUTHORIZED, INFO_FAILED],
    ),
    (
        "unstructured/match-multiple-terms",
        "ERROR ARGUMENTS",
        [MISSING_ARGS, INVALID_ARGS],
        [BAD_REQUEST, UNAUTHORIZED],
    ),
    (
        "unstructured/match-optional-terms",
        "?ERROR ?ARGUMENTS",
        [BAD_REQUEST, UNAUTHORIZED, MISSING_ARGS, INVALID_ARGS, "[INFO] INVALID ARGUMENTS PROVIDED"],
        [AUTHORIZED, INFO_FAILED],
    ),
    (
        # Note: "If you combine "?" with other filter patterns, all question mark terms will be ignored."
        "unstructured/match-optional-terms/note-?-ignored-with-other-terms",
        "?ERROR ?ARGUMENTS REQUEST",
        [INFO_FAILED, WARN_UNAUTH, ERROR_400_BAD, INFO_OK],
        [MISSING_ARGS, INTERNAL],
    ),
    (
        "unstructured/match-exact-phrases",
        '"INTERNAL SERVER ERROR"',
        [INTERNAL],
        [BAD_REQUEST, "INTERNAL ERROR SERVER"],
    ),
    (
        "unstructured/include-and-exclude-terms",
        "ERROR -ARGUMENTS",
        [BAD_REQUEST, UNAUTHORIZED],
        [MISSING_ARGS, INVALID_ARGS],
    ),
    ("unstructured/match-everything", '" "', [BAD_REQUEST, "", "x", "{}"], []),
    # The earlier revision of the section ("Matching Terms in Log Events", examples 1-3).
    (
        "unstructured(old)/example-1-single-term",
        '"ERROR"',
        ["[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"],
        ["error: lower case"],
    ),
    (
        "unstructured(old)/example-2-include-and-exclude(as printed)",
        '"ERROR" - "Exiting"',
        ["[ERROR] A fatal exception has occurred"],
        ["Exiting with ERRORCODE: -1"],
    ),
    (
        "unstructured(old)/example-2-include-and-exclude",
        '"ERROR" -"Exiting"',
        ["[ERROR] A fatal exception has occurred"],
        ["Exiting with ERRORCODE: -1"],
    ),
    (
        "unstructured(old)/example-3-multiple-terms",
        "ERROR Exception",
        ["[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception"],
        ["[ERROR] Unhandled exception"],
    ),
    (
        "unstructured(old)/example-3-phrase",
        '"Failed to process the request"',
        ["[WARN] Failed to process the request", "[ERROR] Unable to continue: Failed to process the request"],
        ["Failed to process request"],
    ),
    # Earlier revision, "OR Pattern Matching":
    # lines 1 "ERROR WARN message", 2 "ERROR message", 3 "WARN message".
    ("or-matching(old)/ERROR", "ERROR", ["ERROR WARN message", "ERROR message"], ["WARN message"]),
    (
        "or-matching(old)/?ERROR ?WARN",
        "?ERROR ?WARN",
        ["ERROR WARN message", "ERROR message", "WARN message"],
        [],
    ),
    ("or-matching(old)/ERROR WARN", "ERROR WARN", ["ERROR WARN message"], ["ERROR message", "WARN message"]),
    (
        "or-matching(old)/ERROR -WARN",
        "ERROR -WARN",
        ["ERROR message"],
        ["ERROR WARN message", "WARN message"],
    ),
    # "Supported regular expressions (regex) syntax" -> "Usage of supported operators".
    ("regex-operators/^", "%^[hc]at%", ["hat trick", "cat"], ["that", "a cat"]),
    ("regex-operators/$", "%[hc]at$%", ["a hat", "cat"], ["cats", "hate"]),
    ("regex-operators/?", "%colou?r%", ["color", "colour"], ["colouur"]),
    ("regex-operators/[]-list", "%[abc]%", ["a", "b", "c"], ["d", "xyz"]),
    ("regex-operators/[]-range", "%[a-z]%", ["q"], ["Q9"]),
    ("regex-operators/[]-mixed", "%[abcx-z]%", ["a", "b", "c", "x", "y", "z"], ["d", "w"]),
    ("regex-operators/{m,n}", "%a{3,5}%", ["aaa", "aaaa", "aaaaa"], ["aa", "a a a"]),
    ("regex-operators/|-gray-grey", "%gra|ey%", ["gray", "grey"], ["gruy"]),
    (
        "regex-operators/|-anchored-alternatives",
        "%^starting|^initializing|^shutting down%",
        ["starting ...", "initializing ...", "shutting down"],
        ["skipping initializing ..."],
    ),
    # The doc prints this one without its closing '%'; with it, the documented results hold.
    ("regex-operators/|-abcc", "%abcc|ab[^c]$%", ["abcc ...", "aba"], ["aac ..."]),
    ("regex-operators/\\-escape", "%\\[.\\]%", ["[a]", "[b]", "[7]", "[@]", "[]]", "[ ]"], ["[]", "[ab]"]),
    ("regex-operators/\\-note-ip", "%10\\.10\\.0\\.1%", ["10.10.0.1"], ["10010,051"]),
    ("regex-operators/.-note-unescaped-ip", "%10.10.0.1%", ["10.10.0.1", "10010,051"], ["10.10.0.2"]),
    ("regex-operators/*", "%ab*c%", ["ac", "abc", "abbbc"], ["ab"]),
    ("regex-operators/*-class", "%^ab[0-9]*$%", ["ab", "ab0", "ab129"], ["abx"]),
    ("regex-operators/+", "%ab+c%", ["abc", "abbc", "abbbc"], ["ac"]),
    ("regex-operators/.", "%.at%", ["hat", "cat", "bat", "4at", "#at", " at"], ["at"]),
    ("regex-operators/\\d", "%\\d%", ["a1"], ["abc"]),
    ("regex-operators/\\D", "%^\\D+$%", ["abc"], ["a1"]),
    ("regex-operators/\\s", "%a\\sb%", ["a b", "a\tb"], ["ab"]),
    ("regex-operators/\\S", "%^\\S+$%", ["ab"], ["a b"]),
    ("regex-operators/\\w", "%^\\w+$%", ["a_Z9"], ["a-b", "é"]),
    ("regex-operators/\\W", "%\\W%", ["a-b"], ["a_b"]),
    ("regex-operators/\\xhh-colon", "%\\x3A%", ["a:b"], ["ab"]),
    ("regex-operators/\\xhh-paren", "%\\x28%", ["f(x)"], ["fx"]),
]


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_documented_example(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    compiled = compile_pattern(pattern)
    assert [line for line in matching if not compiled.matches(line)] == []
    assert [line for line in not_matching if compiled.matches(line)] == []


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("%something!%", "regex-syntax: '!' is not a supported symbol"),
        ("%(ab)+%", "regex-syntax: ( and ) are not supported"),
        ("%caf\u00e9%", "regex-syntax: multi-byte characters are not supported"),
        ("%abcc|ab[^c]$", "regex-operators/|: the doc's example as printed, without its closing %"),
    ],
)
def test_documented_regex_rejections(pattern: str, why: str) -> None:
    with pytest.raises(PatternSyntaxError):
        compile_pattern(pattern)


def test_terms_are_case_sensitive() -> None:
    """Unstructured note: "Filter patterns are case sensitive"."""
    assert not compile_pattern("ERROR").matches("[error 400] bad request")


def test_empty_pattern_matches_everything() -> None:
    pattern = compile_pattern("")
    assert pattern.matches("anything") and pattern.matches("")
    assert pattern.extract("anything") == {}
