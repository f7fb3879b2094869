"""Conformance: every example of the space-delimited section of the AWS filter-pattern doc.

Source: "Filter pattern syntax ..." -> "Using filter patterns to match terms in space-delimited
log events" (current and earlier revisions), and "Filter pattern syntax for metric filters"
-> "Publishing dimensions with metrics from values in JSON or space-delimited log events".
"""

from __future__ import annotations

import pytest

from alarms.patterns import PatternSyntaxError, compile_pattern
from tests.unit.alarms.docdata import DOC_APACHE_LINE, DOC_W_LINES

OLD_APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
]


@pytest.mark.parametrize(
    "pattern",
    [
        "[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        "[..., request =*.html*, status_code = 4*, bytes]",
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        "[ip, server, username, timestamp, request, status_code, bytes > 1000]",
    ],
    ids=[
        "delimited/seven-fields-regex-wildcards",
        "delimited/ellipsis",
        "delimited/OR",
        "metric-dimensions/example",
    ],
)
def test_documented_patterns_match_the_doc_line(pattern: str) -> None:
    assert compile_pattern(pattern).matches(DOC_APACHE_LINE)


def test_documented_or_rejects_other_status_codes() -> None:
    pattern = compile_pattern(
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]"
    )
    assert pattern.matches(DOC_APACHE_LINE.replace(" 404 ", " 410 "))
    assert not pattern.matches(DOC_APACHE_LINE.replace(" 404 ", " 500 "))


def test_documented_ip_regex_covers_only_its_range() -> None:
    """The doc: "ip uses regex that matches IP address range 127.0.0.1 - 127.0.0.9"."""
    pattern = compile_pattern(
        "[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]"
    )
    assert pattern.matches(DOC_APACHE_LINE.replace("127.0.0.1", "127.0.0.9"))
    assert not pattern.matches(DOC_APACHE_LINE.replace("127.0.0.1", "127.0.0.0"))
    assert not pattern.matches(DOC_APACHE_LINE.replace(".html", ".gif"))


def test_documented_extracted_values() -> None:
    """Metric filter doc: the fields found for [ip, server, ..., bytes > 1000] in the example line."""
    pattern = compile_pattern("[ip, server, username, timestamp, request, status_code, bytes > 1000]")
    assert pattern.extract(DOC_APACHE_LINE) == {
        "$bytes": "1534",
        "$status_code": "404",
        "$request": "GET /index.html HTTP/1.0",
        "$timestamp": "10/Oct/2000:13:25:15 -0700",
        "$username": "frank",
        "$server": "Prod",
        "$ip": "127.0.0.1",
    }


def test_documented_positional_extracted_values() -> None:
    """Earlier revision: [..., request=*.html*, status_code=4*,] reports $1..$4 and $7 by position.

    (The doc prints "$request": "GET /products/index.html ..." for a line saying /index.html.)
    """
    line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
    assert compile_pattern("[..., request=*.html*, status_code=4*,]").extract(line) == {
        "$status_code": "404",
        "$request": "GET /index.html HTTP/1.0",
        "$7": "1534",
        "$4": "10/Oct/2000:13:25:15 -0700",
        "$3": "frank",
        "$2": "-",
        "$1": "127.0.0.1",
    }


W_CASES = [
    ("delimited/match-terms-in-order", "[w1=ERROR, w2]", {"error"}),
    ("delimited/AND-and-OR", "[w1=ERROR || w1=WARNING, w2]", {"error", "warning"}),
    ("delimited/exclude-terms", "[w1!=ERROR && w1!=WARNING, w2]", {"info_get", "info_post"}),
    (
        "delimited/top-level-item-in-resource-URI",
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
        {"info_get"},
    ),
    (
        "delimited/child-level-item-in-resource-URI",
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
        {"info_post"},
    ),
    ("metric-dimensions/AND-OR-superstring-of-WARN", "[w1=ERROR || w1=%WARN%, w2]", {"error", "warning"}),
]


@pytest.mark.parametrize(("pattern", "expected"), [c[1:] for c in W_CASES], ids=[c[0] for c in W_CASES])
def test_documented_w_examples(pattern: str, expected: set[str]) -> None:
    compiled = compile_pattern(pattern)
    assert {name for name, line in DOC_W_LINES.items() if compiled.matches(line)} == expected


OLD_CASES = [
    # Earlier revision, "Using Metric Filters to Extract Values from Space-Delimited Log Events".
    ("[ip, user, username, timestamp, request, status_code, bytes]", [True, True, True]),
    ("[..., status_code, bytes]", [True, True, True]),
    ("[ip, user, ..., status_code, bytes]", [True, True, True]),
    ("[ip, user, ...]", [True, True, True]),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", [True, True, True]),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", [True, False, True]),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", [False, False, False]),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", [False, False, False]),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", [False] * 3),
    (
        "[ip, user, username, timestamp, request, status_code = 5* && status_code != 403, bytes > 5000]",
        [False, True, False],
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), OLD_CASES)
def test_documented_earlier_revision_examples(pattern: str, expected: list[bool]) -> None:
    compiled = compile_pattern(pattern)
    assert [compiled.matches(line) for line in OLD_APACHE] == expected


def test_two_fields_in_one_slot_is_rejected_as_cloudwatch_does() -> None:
    """The earlier revision's [..., status_code = 4* && bytes > 1000] is "Invalid filter pattern"
    on CloudWatch (awsdocs/amazon-cloudwatch-logs-user-guide issue 21); the error names the field."""
    with pytest.raises(PatternSyntaxError) as err:
        compile_pattern("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]")
    assert "'bytes'" in err.value.message
    assert err.value.pattern[err.value.position :].startswith("bytes")


def test_brackets_and_quotes_make_single_fields() -> None:
    """Note: "Characters between brackets ([]) and double quotation marks ("") are considered single
    fields"."""
    values = compile_pattern("[a, b, c]").extract('x [one two] "three four"')
    assert values == {"$a": "x", "$b": "one two", "$c": "three four"}
