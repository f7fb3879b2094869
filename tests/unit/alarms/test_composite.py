"""Composite alarm rules: ALARM/OK/INSUFFICIENT_DATA(name), AND, OR, NOT, parentheses, TRUE/FALSE."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from alarms.evaluate.composite import (
    AlarmRuleError,
    CompositeAlarmDefinition,
    compile_rule,
    evaluate_composite_alarm,
    evaluate_rule,
)
from alarms.evaluate.model import AlarmStateValue

STATES = {"x": "ALARM", "y": "INSUFFICIENT_DATA", "z": "OK"}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('ALARM("x") AND NOT OK("y")', True),
        ('ALARM("x") AND NOT INSUFFICIENT_DATA("y")', False),
        ("ALARM(x) AND OK(z)", True),
        ("ALARM(y) OR OK(z)", True),
        ("ALARM(y) OR ALARM(z)", False),
        ("NOT ALARM(x) OR OK(z) AND ALARM(x)", True),  # AND binds tighter than OR
        ("(NOT ALARM(x) OR OK(z)) AND ALARM(y)", False),
        ("NOT NOT ALARM(x)", True),
        ("TRUE", True),
        ("FALSE OR ALARM(z)", False),
        ("ALARM(x) AND TRUE", True),
    ],
)
def test_rule_evaluation(rule: str, expected: bool) -> None:
    assert evaluate_rule(compile_rule(rule), STATES) is expected


def test_arns_and_quoted_names_are_alarm_names() -> None:
    rule = compile_rule('ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:dlq-depth") AND OK( z )')
    assert rule.alarms == {"arn:aws:cloudwatch:us-east-1:123456789012:alarm:dlq-depth", "z"}


@pytest.mark.parametrize(
    ("rule", "position"),
    [
        ("ALARM(x) AND", 12),
        ("ALARM(x) XOR OK(z)", 9),
        ("ALARM()", 6),
        ('ALARM("x)', 6),
        ("(ALARM(x)", 9),
        ("", 0),
    ],
)
def test_bad_rules_point_at_the_problem(rule: str, position: int) -> None:
    with pytest.raises(AlarmRuleError) as err:
        compile_rule(rule)
    assert err.value.position == position


def test_unknown_child_alarm_is_named() -> None:
    with pytest.raises(KeyError, match="nope"):
        evaluate_rule(compile_rule("ALARM(nope) OR ALARM(x)"), STATES)


def test_composite_alarm_state_and_definition() -> None:
    definition = CompositeAlarmDefinition(AlarmName="saga-degraded", AlarmRule='ALARM("x") AND NOT OK("y")')
    state = evaluate_composite_alarm(
        definition, STATES, datetime(2026, 11, 24, tzinfo=UTC), AlarmStateValue.OK
    )
    assert state.StateValue is AlarmStateValue.ALARM and state.changed
    assert state.StateReason == "AlarmRule evaluated to TRUE (x=ALARM, y=INSUFFICIENT_DATA)."
    assert CompositeAlarmDefinition.model_validate(definition.to_put_composite_alarm()) == definition
    with pytest.raises(ValidationError, match="AlarmRule"):
        CompositeAlarmDefinition(AlarmName="bad", AlarmRule="ALARM(x) AND")
