"""Property tests: parsing never crashes, and JSON ``a || b`` is exactly the union of ``a`` and ``b``."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from alarms.patterns import PatternSyntaxError, compile_pattern

# Fragments that steer random text toward the grammar, so the parser's deep paths get exercised.
FRAGMENTS = [
    "{", "}", "[", "]", "(", ")", "$.", "$.a", "$.a[0]", "$.*", "[*]", "['x.y']", "=", "!=", "<", ">=",
    "&&", "||", "IS", "NULL", "TRUE", "NOT", "EXISTS", '"', '"x y"', "%", "%a.b%", "*", "4*", "1e3",
    "-", "?", "...", ",", " ", "w1", "ERROR", "\\", "\u00e9", "\n",
]  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join)))
def test_parsing_never_crashes(text: str) -> None:
    try:
        pattern = compile_pattern(text)
    except PatternSyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        return
    for line in ('{"a": [1, "x"], "x.y": null}', 'ERROR a b [c d] "e f"', "", "x"):
        pattern.matches(line)
        pattern.extract(line)


# --- a || b == a ∪ b for JSON patterns -------------------------------------------------------

SELECTORS = ["$.a", "$.b", "$.c[0]", "$.d.e", "$.arr[*]", "$.*"]
TEXT_VALUES = ['"x"', "x", '"x y"', "*", "x*", "*y", '"é"', "%x.%", "1", '"1.0"']
NUMBER_VALUES = ["0", "1", "-1", "2.5", "1e3", "+1"]


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["text", "number", "is", "exists"] + (["and", "or"] if depth < 2 else [])))
    selector = draw(st.sampled_from(SELECTORS))
    if kind == "text":
        return f"{selector} {draw(st.sampled_from(['=', '!=']))} {draw(st.sampled_from(TEXT_VALUES))}"
    if kind == "number":
        op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
        return f"{selector} {op} {draw(st.sampled_from(NUMBER_VALUES))}"
    if kind == "is":
        return f"{selector} IS {draw(st.sampled_from(['NULL', 'TRUE', 'FALSE']))}"
    if kind == "exists":
        return f"{selector} NOT EXISTS"
    joiner = " && " if kind == "and" else " || "
    return f"({draw(conditions(depth + 1))}{joiner}{draw(conditions(depth + 1))})"


SCALARS = st.one_of(
    st.sampled_from(["x", "xy", "y", "x y", "", "é", "1", "1.0", "xz"]),
    st.sampled_from([0, 1, -1, 2.5, 1000, 1000.0, 0.5]),
    st.booleans(),
    st.none(),
)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "b", "e", "x"]), inner, max_size=3), max_leaves=6)  # fmt: skip
DOCS = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "arr", "z"]), JSON_VALUES, max_size=5)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(conditions(), conditions(), st.lists(st.tuples(DOCS, st.booleans()), min_size=1, max_size=5))
# The pre-check before json.loads must not change a result when JSON escapes spell the value.
@example('$.a = "é"', "$.b = 1", [({"a": "é"}, True)])
@example('$.a = "x y"', "$.b = 1", [({"a": "x\u0020y"}, True)])
@example("$.a = 1", '$.a = "1.0"', [({"a": 1.0}, True)])
def test_json_or_is_the_union(a: str, b: str, docs: list[tuple[dict[str, object], bool]]) -> None:
    try:
        either, left, right = (compile_pattern(f"{{ {x} }}") for x in (f"{a} || {b}", a, b))
    except PatternSyntaxError:
        assume(False)  # e.g. more than 3 wildcard selectors or 2 regexes: a quota, not a bug
        return
    for doc, ascii_only in docs:
        line = json.dumps(doc, ensure_ascii=ascii_only)
        assert either.matches(line) == (left.matches(line) or right.matches(line)), line


def test_precheck_does_not_miss_values_spelled_with_escapes() -> None:
    """``"ERROR"`` may arrive as ``"\\u0045RROR"``; the substring pre-check must not reject it."""
    pattern = compile_pattern('{ $.level = "ERROR" }')
    assert pattern.matches('{"level": "\\u0045RROR"}')
    assert pattern.matches(json.dumps({"level": "ERROR", "msg": "caf\u00e9"}))
    assert not pattern.matches('{"level": "INFO", "message": "ERROR in text"}')


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(conditions(), conditions(), st.lists(DOCS, min_size=1, max_size=5))
def test_json_and_is_the_intersection(a: str, b: str, docs: list[dict[str, object]]) -> None:
    try:
        both, left, right = (compile_pattern(f"{{ {x} }}") for x in (f"{a} && {b}", a, b))
    except PatternSyntaxError:
        assume(False)
        return
    for doc in docs:
        line = json.dumps(doc)
        assert both.matches(line) == (left.matches(line) and right.matches(line)), line


FIELD_VALUES = st.sampled_from(["404", "410", "500", "4xx", "abc", "-1", "1e3", "[a b]", '"q r"'])


@settings(max_examples=200)
@given(
    st.sampled_from(["= 404", "= 4*", "!= 500", "> 400", "<= 1000", "= %^4%", "= *b*"]),
    st.sampled_from(["= 410", "= *c", "!= 404", "< 0", ">= 1e3", "= %0$%"]),
    st.lists(FIELD_VALUES, min_size=3, max_size=3),
)
def test_delimited_or_in_a_field_is_the_union(a: str, b: str, fields: list[str]) -> None:
    line = " ".join(fields)
    either = compile_pattern(f"[x, code {a} || code {b}, y]")
    left, right = compile_pattern(f"[x, code {a}, y]"), compile_pattern(f"[x, code {b}, y]")
    assert either.matches(line) == (left.matches(line) or right.matches(line))
