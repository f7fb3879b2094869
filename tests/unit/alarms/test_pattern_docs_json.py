"""Conformance: every example of the JSON section of the AWS filter-pattern doc.

Source: "Filter pattern syntax ..." -> "Using filter patterns to match terms in JSON log
events" (current and earlier revisions), and "Filter pattern syntax for metric filters".
"""

from __future__ import annotations

import json

import pytest

from alarms.patterns import PatternSyntaxError, compile_pattern
from tests.unit.alarms.docdata import DOC_COMPOUND_EVENT, DOC_JSON_EVENT

MATCHING_DOC_EVENT = [
    ("json/string-values", '{ $.eventType = "UpdateTrail" }'),
    ("json/string-values-ip-address", "{ $.sourceIPAddress != 123.123.* }"),
    ("json/array-element-string", '{ $.arrayKey[0] = "value" }'),
    ("json/string-using-regex", "{ $.eventType = %Trail% }"),
    ("json/wildcard-any-array-element-regex", "{ $.arrayKey[*] = %val.{2}% }"),
    ("json/wildcard-any-field-regex-ip", "{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }"),
    ("json/property-with-a-period", "{ $.['cluster.name'] = \"c\" }"),
    ("json/IS-NULL", "{ $.SomeObject IS NULL }"),
    ("json/NOT-EXISTS", "{ $.SomeOtherObject NOT EXISTS }"),
    ("json(old)/objectList[1].id", "{ $.objectList[1].id = 2 }"),
    ("json(old)/IS-TRUE", "{ $.ThisFlag IS TRUE }"),
    (
        "metric-filter-dimensions/example-metric-filter",
        '{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }',
    ),
]


@pytest.mark.parametrize(
    "pattern", [c[1] for c in MATCHING_DOC_EVENT], ids=[c[0] for c in MATCHING_DOC_EVENT]
)
def test_documented_pattern_matches_the_doc_event(pattern: str) -> None:
    assert compile_pattern(pattern).matches(DOC_JSON_EVENT)


@pytest.mark.parametrize(
    "pattern",
    [
        '{ $.eventType = "UpdateTrail2" }',
        "{ $.sourceIPAddress != 111.111.* }",
        '{ $.arrayKey[1] = "value" }',
        "{ $.eventType = %^Trail% }",
        "{ $.SomeOtherObject IS NULL }",  # "only true if the specified object is set to null"
        "{ $.SomeObject NOT EXISTS }",  # it exists (as null)
        "{ $.ThisFlag IS FALSE }",
        "{ $.objectList[2].id = 2 }",
        '{ $.["cluster.name"] = "d" }',
    ],
)
def test_near_misses_of_the_doc_examples_do_not_match(pattern: str) -> None:
    assert not compile_pattern(pattern).matches(DOC_JSON_EVENT)


COMPOUND = [
    ("json/compound-AND-matches", '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
    (
        "json/compound-OR-matches",
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch"'
        ' && $.actions[2] = "nonmatch" }',
        True,
    ),
    (
        "json/compound-AND-does-not-match",
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch")'
        ' && $.actions[2] = "nonmatch" }',
        False,
    ),
    (
        "json/compound-OR-does-not-match",
        '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
        False,
    ),
    # Earlier revision spells the values unquoted.
    (
        "json(old)/compound-unquoted-matches",
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch'
        " && $.actions[2] = nomatch }",
        True,
    ),
    (
        "json(old)/compound-unquoted-does-not-match",
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
        " && $.actions[2] = nomatch }",
        False,
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), [c[1:] for c in COMPOUND], ids=[c[0] for c in COMPOUND])
def test_documented_compound_expressions(pattern: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(DOC_COMPOUND_EVENT) is expected


NUMERIC = [
    # "Writing filter patterns that match numeric values": (pattern, matching event, non-matching event)
    ("json/numeric/greater-than", "{ $.bandwidth > 75 }", {"bandwidth": 76}, {"bandwidth": 75}),
    ("json/numeric/less-than", "{ $.latency < 50 }", {"latency": 49.5}, {"latency": 50}),
    ("json/numeric/greater-or-equal", "{ $.refreshRate >= 60 }", {"refreshRate": 60}, {"refreshRate": 59}),
    ("json/numeric/less-or-equal", "{ $.responseTime <= 5 }", {"responseTime": 5}, {"responseTime": 5.01}),
    ("json/numeric/equal", "{ $.errorCode = 400}", {"errorCode": 400}, {"errorCode": 401}),
    ("json/numeric/not-equal", "{ $.errorCode != 500 }", {"errorCode": 404}, {"errorCode": 500}),
    ("json/numeric/exponent-plus", "{ $.number[0] = 1e+3 }", {"number": [1000]}, {"number": [100]}),
    ("json/numeric/exponent-minus", "{ $.number[0] != 1e-3 }", {"number": [1]}, {"number": [0.001]}),
    # Earlier revision, "Numeric Comparisons".
    ("json(old)/numeric/latency>=500", "{ $.latency >= 500 }", {"latency": 500}, {"latency": 499}),
    ("json(old)/numeric/10e3", "{ $.numbers[0] < 10e3 }", {"numbers": [9999]}, {"numbers": [10000]}),
    ("json(old)/numeric/10e-3", "{ $.numbers[0] < 10e-3 }", {"numbers": [0.009]}, {"numbers": [0.01]}),
    (
        "json(old)/numeric/nested-decimal",
        "{ $.processes[4].averageRuntime <= 55.5 }",
        {"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]},
        {"processes": [{}, {}, {}, {}, {"averageRuntime": 55.6}]},
    ),
    ("json(old)/numeric/plus-sign", "{ $.latency > +1000 }", {"latency": 1001}, {"latency": 1000}),
    # "Using values in log events to increment a metric's value": { $.latency = * }
    (
        "metric-value/latency-any",
        "{ $.latency = * }",
        {"latency": 50, "requestType": "GET"},
        {"requestType": "GET"},
    ),
]


@pytest.mark.parametrize(("pattern", "hit", "miss"), [c[1:] for c in NUMERIC], ids=[c[0] for c in NUMERIC])
def test_documented_numeric_comparisons(
    pattern: str, hit: dict[str, object], miss: dict[str, object]
) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.matches(json.dumps(hit))
    assert not compiled.matches(json.dumps(miss))


def test_selector_on_array_or_object_never_matches() -> None:
    """Earlier revision, "JSON Special Considerations": both {$.users = 1} and {$.users != 1} fail."""
    event = json.dumps({"users": [1, 2, 3], "obj": {"a": 1}})
    for pattern in ("{$.users = 1}", "{$.users != 1}", "{ $.obj = 1 }", "{ $.obj != 1 }", '{ $.obj != "x" }'):
        assert not compile_pattern(pattern).matches(event), pattern


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        # Earlier revision, "STRING": "*Event will match PutEvent and GetEvent. Event* will match EventId and
        # EventName. Ev*ent will only match the actual string Ev*ent."
        ("{ $.name = *Event }", ["PutEvent", "GetEvent"], ["EventId"]),
        ("{ $.name = Event* }", ["EventId", "EventName"], ["PutEvent"]),
        ('{ $.name = "Ev*ent" }', ["Ev*ent"], ["Event", "Evxent"]),
    ],
)
def test_documented_wildcards(pattern: str, matching: list[str], not_matching: list[str]) -> None:
    compiled = compile_pattern(pattern)
    for value in matching:
        assert compiled.matches(json.dumps({"name": value})), value
    for value in not_matching:
        assert not compiled.matches(json.dumps({"name": value})), value


def test_documented_or_in_json() -> None:
    """Earlier revision, "OR Pattern Matching": {$.foo = bar || $.foo = baz } matches both events."""
    bar, baz = '{"foo": "bar"}', '{"foo": "baz"}'
    assert compile_pattern("{$.foo = bar}").matches(bar) and not compile_pattern("{$.foo = bar}").matches(baz)
    assert compile_pattern("{$.foo = baz }").matches(baz)
    either = compile_pattern("{$.foo = bar || $.foo = baz }")
    assert either.matches(bar) and either.matches(baz) and not either.matches('{"foo": "qux"}')


@pytest.mark.parametrize(
    "pattern",
    [
        "{ $.SomeObject IS NOT NULL }",  # "The variables IS NOT and EXISTS currently aren't supported."
        "{ $.SomeObject EXISTS }",
        "{ $.arrayKey[*].a[*] = 1 }",  # quota: one wildcard selector in a property selector
        "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",  # quota: three in a compound pattern
        "{ $.a = %a% || $.b = %b% || $.c = %c% }",  # quota: 2 regex in a JSON pattern
    ],
)
def test_documented_json_rejections(pattern: str) -> None:
    with pytest.raises(PatternSyntaxError):
        compile_pattern(pattern)


def test_json_patterns_extract_nothing() -> None:
    """Earlier revision: extracted values are only for space-delimited filters; "this will be empty"."""
    assert compile_pattern('{ $.eventType = "UpdateTrail" }').extract(DOC_JSON_EVENT) == {}
    assert compile_pattern('{ $.eventType = "X" }').extract(DOC_JSON_EVENT) is None
