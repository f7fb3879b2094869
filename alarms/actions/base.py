"""What an alarm action is: something told about a change of state, and only about a change.

Shaped as Powertools' idempotency persistence is (one small protocol, several backends): the SNS
action does what CloudWatch does on AWS; the audit-store action records the transition for the
dashboard. Adding a destination is one new module implementing ``AlarmAction``.
"""

from __future__ import annotations

from typing import Protocol

from alarms.transition import Transition

__all__ = ["AlarmAction", "Transition"]


class AlarmAction(Protocol):
    name: str

    def fire(self, transition: Transition) -> None:
        """React to one transition; raising is reported by the engine and does not stop other actions."""
