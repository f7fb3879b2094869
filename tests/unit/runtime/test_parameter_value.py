"""``Ref`` to a template parameter gives what CloudFormation gives: strings, or lists of strings."""

from __future__ import annotations

from typing import Any

import pytest

from instrumented_app.runtime.provision.stack import parameter_value


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ({"Type": "Number", "Default": 0.3}, "0.3"),
        ({"Type": "Number", "Default": 5}, "5"),
        ({"Type": "String", "Default": "false"}, "false"),
        ({"Type": "String", "Default": True}, "true"),
        ({"Default": "plain"}, "plain"),
        ({"Type": "CommaDelimitedList", "Default": "a, b,c"}, ["a", "b", "c"]),
        ({"Type": "List<Number>", "Default": "1,2"}, ["1", "2"]),
    ],
)
def test_a_parameter_is_referenced_as_cloudformation_references_it(
    parameter: dict[str, Any], expected: Any
) -> None:
    assert parameter_value(parameter) == expected
