"""Composite alarms: ``AlarmRule`` expressions over other alarms' states.

Grammar (``PutCompositeAlarm``): ``ALARM(name)``, ``OK(name)``, ``INSUFFICIENT_DATA(name)``,
``TRUE``, ``FALSE``, combined with ``AND``, ``OR``, ``NOT`` and parentheses; names may be
quoted (``ALARM("my-alarm")``) and may be alarm ARNs. ``NOT`` binds tightest, then ``AND``,
then ``OR``. The composite is in ALARM when the rule is true, OK otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alarms.evaluate.evaluator import AlarmState
from alarms.evaluate.model import AlarmStateValue

#: ``AlarmRule``: "Length Constraints: Minimum length of 1. Maximum length of 10240."
MAX_RULE_LENGTH = 10240
MAX_NESTING = 64


class AlarmRuleError(ValueError):
    """An ``AlarmRule`` CloudWatch would reject; ``position`` points into the rule."""

    def __init__(self, message: str, rule: str, position: int) -> None:
        self.position = position
        super().__init__(f"{message} (at position {position})\n  {rule}\n  {' ' * position}^")


Rule = Callable[[Mapping[str, AlarmStateValue]], bool]


@dataclass(frozen=True)
class CompiledRule:
    """A parsed rule: ``alarms`` it refers to, and ``test(states) -> bool``."""

    text: str
    alarms: frozenset[str]
    test: Rule


class _Parser:
    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.pos = 0
        self.alarms: set[str] = set()

    def fail(self, message: str, at: int | None = None) -> AlarmRuleError:
        return AlarmRuleError(message, self.rule, self.pos if at is None else at)

    def skip_ws(self) -> None:
        while self.pos < len(self.rule) and self.rule[self.pos].isspace():
            self.pos += 1

    def keyword(self, word: str) -> bool:
        self.skip_ws()
        end = self.pos + len(word)
        if self.rule.startswith(word, self.pos) and (end == len(self.rule) or not self.rule[end].isalnum()):
            self.pos = end
            return True
        return False

    def parse(self) -> Rule:
        result = self.parse_or(0)
        self.skip_ws()
        if self.pos != len(self.rule):
            raise self.fail("unexpected text; expected AND, OR or the end of the rule")
        return result

    def parse_or(self, depth: int) -> Rule:
        left = self.parse_and(depth)
        while self.keyword("OR"):
            right = self.parse_and(depth)
            left = (lambda a, b: lambda s: a(s) or b(s))(left, right)
        return left

    def parse_and(self, depth: int) -> Rule:
        left = self.parse_not(depth)
        while self.keyword("AND"):
            right = self.parse_not(depth)
            left = (lambda a, b: lambda s: a(s) and b(s))(left, right)
        return left

    def parse_not(self, depth: int) -> Rule:
        if self.keyword("NOT"):
            inner = self.parse_not(depth)
            return lambda s: not inner(s)
        return self.parse_primary(depth)

    def parse_primary(self, depth: int) -> Rule:
        self.skip_ws()
        if self.keyword("TRUE"):
            return lambda s: True
        if self.keyword("FALSE"):
            return lambda s: False
        if self.rule.startswith("(", self.pos):
            if depth >= MAX_NESTING:
                raise self.fail(f"parentheses nested more than {MAX_NESTING} deep")
            self.pos += 1
            inner = self.parse_or(depth + 1)
            self.skip_ws()
            if not self.rule.startswith(")", self.pos):
                raise self.fail("expected ')'")
            self.pos += 1
            return inner
        for state in (AlarmStateValue.INSUFFICIENT_DATA, AlarmStateValue.ALARM, AlarmStateValue.OK):
            if self.keyword(state.value):
                name = self.parse_name()
                self.alarms.add(name)
                return (lambda st, nm: lambda s: s[nm] is st)(state, name)
        raise self.fail("expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '('")

    def parse_name(self) -> str:
        self.skip_ws()
        if not self.rule.startswith("(", self.pos):
            raise self.fail("expected '(' and an alarm name")
        self.pos += 1
        self.skip_ws()
        start = self.pos
        if self.rule.startswith('"', self.pos):
            end = self.rule.find('"', self.pos + 1)
            if end < 0:
                raise self.fail("unterminated quoted alarm name", at=start)
            name = self.rule[self.pos + 1 : end]
            self.pos = end + 1
        else:
            end = self.rule.find(")", self.pos)
            if end < 0:
                raise self.fail("expected ')' after the alarm name")
            name = self.rule[self.pos : end].strip()
            self.pos = end
        self.skip_ws()
        if not name:
            raise self.fail("empty alarm name", at=start)
        if not self.rule.startswith(")", self.pos):
            raise self.fail("expected ')' after the alarm name")
        self.pos += 1
        return name


def compile_rule(rule: str) -> CompiledRule:
    """Parse an ``AlarmRule``; raise ``AlarmRuleError`` pointing at the problem."""
    if not rule.strip():
        raise AlarmRuleError("the alarm rule is empty", rule, 0)
    if len(rule) > MAX_RULE_LENGTH:
        raise AlarmRuleError(f"an alarm rule is at most {MAX_RULE_LENGTH} characters", rule, MAX_RULE_LENGTH)
    parser = _Parser(rule)
    test = parser.parse()
    return CompiledRule(rule, frozenset(parser.alarms), test)


def evaluate_rule(rule: CompiledRule, states: Mapping[str, AlarmStateValue | str]) -> bool:
    """True when the rule holds for these alarm states; every alarm it names must be given."""
    unknown = sorted(rule.alarms - states.keys())
    if unknown:
        raise KeyError(f"the rule refers to alarms with no known state: {', '.join(unknown)}")
    return rule.test({name: AlarmStateValue(states[name]) for name in rule.alarms})


class CompositeAlarmDefinition(BaseModel):
    """A composite alarm: the ``PutCompositeAlarm`` request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    AlarmName: str = Field(min_length=1, max_length=255)
    AlarmRule: str = Field(min_length=1, max_length=MAX_RULE_LENGTH)
    AlarmDescription: str | None = Field(default=None, max_length=1024)
    ActionsEnabled: bool = True
    AlarmActions: list[str] = Field(default_factory=list, max_length=5)
    OKActions: list[str] = Field(default_factory=list, max_length=5)
    InsufficientDataActions: list[str] = Field(default_factory=list, max_length=5)
    ActionsSuppressor: str | None = None
    ActionsSuppressorWaitPeriod: int | None = None
    ActionsSuppressorExtensionPeriod: int | None = None
    Tags: list[dict[str, str]] | None = None

    @field_validator("AlarmRule")
    @classmethod
    def _parses(cls, value: str) -> str:
        compile_rule(value)  # AlarmRuleError is a ValueError: pydantic reports it on AlarmRule
        return value

    def to_put_composite_alarm(self) -> dict[str, Any]:
        """The keyword arguments for boto3's ``put_composite_alarm``, defaults left out."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "AlarmName": self.AlarmName,
            "AlarmRule": self.AlarmRule,
        }


def evaluate_composite_alarm(
    alarm: CompositeAlarmDefinition,
    states: Mapping[str, AlarmStateValue | str],
    now: datetime,
    previous_state: AlarmState | AlarmStateValue | None = None,
) -> AlarmState:
    """ALARM when the rule holds for the child alarms' ``states``, OK otherwise."""
    rule = compile_rule(alarm.AlarmRule)
    holds = evaluate_rule(rule, states)
    state = AlarmStateValue.ALARM if holds else AlarmStateValue.OK
    children = {name: AlarmStateValue(states[name]).value for name in sorted(rule.alarms)}
    listed = ", ".join(f"{name}={value}" for name, value in children.items()) or "no child alarms"
    previous = previous_state.StateValue if isinstance(previous_state, AlarmState) else previous_state
    return AlarmState(
        AlarmName=alarm.AlarmName,
        StateValue=state,
        StateReason=f"AlarmRule evaluated to {'TRUE' if holds else 'FALSE'} ({listed}).",
        StateReasonData={"alarmRule": alarm.AlarmRule, "childAlarmStates": children},
        StateUpdatedTimestamp=now if now.tzinfo else now.replace(tzinfo=UTC),
        PreviousStateValue=previous,
        changed=previous is not None and state is not previous,
    )
