"""What an alarm action is: something told about a change of state, and only about a change.

Shaped as Powertools' idempotency persistence is (one small protocol, several backends): the SNS
action does what CloudWatch does on AWS; the audit-store action records the transition for the
dashboard. Adding a destination is one new module implementing ``AlarmAction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.evaluator import AlarmState
from alarms.evaluate.model import AlarmDefinition


@dataclass(frozen=True)
class Transition:
    """One change of an alarm's state, with the definition it was evaluated under."""

    alarm: AlarmDefinition | CompositeAlarmDefinition
    state: AlarmState  # StateValue is the new state, PreviousStateValue the old one


class AlarmAction(Protocol):
    name: str

    def fire(self, transition: Transition) -> None:
        """React to one transition; raising is reported by the engine and does not stop other actions."""
