"""Publish the alarm notification to the SNS topics among the alarm's actions for its new state."""

from __future__ import annotations

import json
from typing import Any

from alarms.actions.base import Transition
from alarms.evaluate.model import AlarmStateValue
from alarms.notification import notification, subject


def actions_for(transition: Transition) -> list[str]:
    """``AlarmActions`` / ``OKActions`` / ``InsufficientDataActions`` for the new state (none when
    ``ActionsEnabled`` is false), as CloudWatch picks them."""
    alarm = transition.alarm
    if not alarm.ActionsEnabled:
        return []
    return {
        AlarmStateValue.ALARM: alarm.AlarmActions,
        AlarmStateValue.OK: alarm.OKActions,
        AlarmStateValue.INSUFFICIENT_DATA: alarm.InsufficientDataActions,
    }[transition.state.StateValue]


class SnsAction:
    name = "sns"

    def __init__(self, sns: Any, region: str, account_id: str) -> None:
        self._sns = sns
        self._region = region
        self._account_id = account_id

    def fire(self, transition: Transition) -> None:
        topics = [arn for arn in actions_for(transition) if arn.startswith("arn:aws:sns:")]
        if not topics:
            return
        body = notification(transition.alarm, transition.state, self._region, self._account_id)
        message = json.dumps(body, ensure_ascii=False)
        title = subject(transition.alarm, transition.state, self._region)
        for topic in topics:
            self._sns.publish(TopicArn=topic, Message=message, Subject=title)
