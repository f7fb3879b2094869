"""Behaviour the docs imply but do not spell out, and the errors a person sees."""

from __future__ import annotations

import json

import pytest

from alarms.patterns import PatternKind, PatternSyntaxError, compile_pattern


def test_last_field_takes_the_rest_of_the_line_without_an_ellipsis() -> None:
    """Why the docs insist on a blank w2 after w1=ERROR: the last field absorbs the remainder."""
    assert compile_pattern("[w1=ERROR, w2]").extract("ERROR 09/25/2014 Failed to process") == {
        "$w1": "ERROR",
        "$w2": "09/25/2014 Failed to process",
    }
    assert not compile_pattern("[w1=ERROR]").matches("ERROR 09/25/2014 Failed to process")
    assert not compile_pattern("[a, b, c]").matches("only two")


def test_several_ellipses_are_fitted_by_search() -> None:
    pattern = compile_pattern("[..., level = ERROR, ..., code = 5*]")
    assert pattern.extract("t1 host ERROR x y 503") == {
        "$1": "t1",
        "$2": "host",
        "$level": "ERROR",
        "$4": "x",
        "$5": "y",
        "$code": "503",
    }
    assert not pattern.matches("t1 host WARN x y 503")
    assert not pattern.matches("ERROR 404")


def test_unclosed_bracket_or_quote_runs_to_the_end() -> None:
    assert compile_pattern("[a, b]").extract('x "open quote') == {"$a": "x", "$b": "open quote"}
    assert compile_pattern("[a, b]").extract("x [open") == {"$a": "x", "$b": "open"}


@pytest.mark.parametrize(
    ("pattern", "line", "expected"),
    [
        # Quoted numbers compare as text against a number's spelling; unquoted ones numerically.
        ('{ $.n = "123" }', '{"n": 123}', True),
        ('{ $.n != "123.0" }', '{"n": 123}', True),
        ("{ $.n = 123.0 }", '{"n": 123}', True),
        ('{ $.f != "12" }', '{"f": 12.0}', True),
        ("{ $.f = 12 }", '{"f": 12.0}', True),
        ("{ $.f = 1e3 }", '{"f": 1e3}', True),
        ('{ $.f = "1e3" }', '{"f": 1e3}', True),
        # Wildcards apply to a number's text too.
        ("{ $.n = 1* }", '{"n": 123}', True),
        ("{ $.n = *3 }", '{"n": 123}', True),
        # A string that is no number is "not equal" to a number, never greater or less.
        ("{ $.s != 111 }", '{"s": "111.111.111.111"}', True),
        ("{ $.s > 1 }", '{"s": "abc"}', False),
        ("{ $.s > 1 }", '{"s": "5"}', True),
        # null, booleans and missing values never match a comparison.
        ('{ $.x != "a" }', '{"y": 1}', False),
        ('{ $.x != "a" }', '{"x": null}', False),
        ('{ $.x = "true" }', '{"x": true}', False),
        ("{ $.x = * }", '{"x": ""}', True),
        # JSON patterns only match JSON objects.
        ('{ $.level = "ERROR" }', 'level="ERROR"', False),
        ("{ $.a NOT EXISTS }", "[1, 2]", False),
        ("{ $.a NOT EXISTS }", "not json at all", False),
    ],
)
def test_json_value_semantics(pattern: str, line: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(line) is expected


def test_wildcard_selector_matches_any_element() -> None:
    pattern = compile_pattern("{ $.items[*].sku = ABC* }")
    assert pattern.matches(json.dumps({"items": [{"sku": "X1"}, {"sku": "ABC9"}]}))
    assert not pattern.matches(json.dumps({"items": [{"sku": "X1"}]}))
    assert compile_pattern("{ $.items[*] NOT EXISTS }").matches('{"items": []}')


@pytest.mark.parametrize(
    ("pattern", "message_part", "pointed_at"),
    [
        ('{ $.level = "ERROR" ', "closing '}'", ""),
        ("{ level = ERROR }", "'$.'", "level"),
        ("{ $.a >= abc }", "needs an unquoted number", "abc"),
        ("{ $.a == 1 }", "'=='", "== 1"),
        ("{ $.a = foo@bar }", "double quotes", "@bar"),
        ("ERROR: timeout", "double quotes", ": timeout"),
        ('"unterminated', "unterminated", '"unterminated'),
        ("[a, b", "',' or the closing ']'", ""),
        ("{ $.a = %x(y)% }", "parentheses", "(y)%"),
        ("{ ((((((((((((((((((((((((((((((((($.a = 1)))))))))))))))))))))))))))))))))) }", "nested", ""),
    ],
)
def test_errors_name_the_problem_and_point_at_it(pattern: str, message_part: str, pointed_at: str) -> None:
    with pytest.raises(PatternSyntaxError) as err:
        compile_pattern(pattern)
    assert message_part in err.value.message
    if pointed_at:
        assert pattern[err.value.position :].startswith(pointed_at)
    caret_line = str(err.value).splitlines()[-1]
    assert caret_line.index("^") - 2 == err.value.position


def test_pattern_longer_than_cloudwatch_allows_is_rejected() -> None:
    with pytest.raises(PatternSyntaxError, match="at most 1024"):
        compile_pattern("A" * 1025)


def test_kinds() -> None:
    assert compile_pattern("").kind is PatternKind.MATCH_ALL
    assert compile_pattern("ERROR").kind is PatternKind.TERMS
    assert compile_pattern("%ERR%").kind is PatternKind.REGEX
    assert compile_pattern("{ $.a = 1 }").kind is PatternKind.JSON
    assert compile_pattern("[a, b]").kind is PatternKind.DELIMITED


def test_several_ellipses_handle_very_long_lines() -> None:
    """No recursion, so a line of 20,000 fields fits as well as a short one."""
    line = " ".join(["x"] * 20_000) + " ERROR y 503"
    values = compile_pattern("[..., level = ERROR, ..., code = 5*]").extract(line)
    assert values is not None
    assert (values["$level"], values["$20002"], values["$code"], len(values)) == ("ERROR", "y", "503", 20_003)
