"""``Transition``: one change of an alarm's state, what actions are told and the store records."""

from __future__ import annotations

from dataclasses import dataclass

from alarms.evaluate.composite import CompositeAlarmDefinition
from alarms.evaluate.evaluator import AlarmState
from alarms.evaluate.model import AlarmDefinition


@dataclass(frozen=True)
class Transition:
    """One change of an alarm's state, with the definition it was evaluated under."""

    alarm: AlarmDefinition | CompositeAlarmDefinition
    state: AlarmState  # StateValue is the new state, PreviousStateValue the old one
