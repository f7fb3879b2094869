"""Alarm actions: ``AlarmAction`` (base), SNS (as CloudWatch publishes), the audit store."""

from alarms.actions.audit import AuditStoreAction
from alarms.actions.base import AlarmAction, Transition
from alarms.actions.sns import SnsAction

__all__ = ["AlarmAction", "AuditStoreAction", "SnsAction", "Transition"]
