"""Undo a failed provisioning, as CloudFormation rolls back: nothing half-made is left behind.

What was created directly goes first, in reverse order; then the stack, which takes what
CloudFormation made with it; then the state machines the executing Step Functions backend
holds apart from CloudFormation's. Undoing is best effort: what could not be undone is
returned, so the error can name it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from instrumented_app.runtime.provision.clients import Clients
from instrumented_app.runtime.provision.errors import CREATION_ERRORS, SERVICE_ERRORS
from instrumented_app.runtime.provision.stack import DeployedStack

Deleter = Callable[[Clients, str, dict[str, Any]], None]
_DELETE_TIMEOUT_S = 30.0


def _delete_alias(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.lambda_.delete_alias(FunctionName=props["FunctionName"], Name=props["Name"])


def _remove_permission(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.lambda_.remove_permission(FunctionName=props["FunctionName"], StatementId=physical)


def _unsubscribe(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.sns.unsubscribe(SubscriptionArn=physical)


def _delete_metric_filter(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.logs.delete_metric_filter(logGroupName=props["LogGroupName"], filterName=physical)


def _delete_alarm(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.cloudwatch.delete_alarms(AlarmNames=[physical])


def _delete_mapping(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.lambda_.delete_event_source_mapping(UUID=physical)


def _delete_rule(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    bus = {"EventBusName": props["EventBusName"]} if "EventBusName" in props else {}
    targets = clients.events.list_targets_by_rule(Rule=physical, **bus)["Targets"]
    if targets:
        clients.events.remove_targets(Rule=physical, Ids=[t["Id"] for t in targets], **bus)
    clients.events.delete_rule(Name=physical, **bus)


def _delete_event_bus(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.events.delete_event_bus(Name=physical)


def _delete_schedule(clients: Clients, physical: str, props: dict[str, Any]) -> None:
    clients.scheduler.delete_schedule(Name=physical, GroupName=props.get("GroupName", "default"))


#: Versions and queue policies go with their function or queue when the stack is deleted.
DELETERS: dict[str, Deleter] = {
    "AWS::Events::Rule": _delete_rule,
    "AWS::Events::EventBus": _delete_event_bus,
    "AWS::Lambda::Alias": _delete_alias,
    "AWS::Lambda::Permission": _remove_permission,
    "AWS::SNS::Subscription": _unsubscribe,
    "AWS::Logs::MetricFilter": _delete_metric_filter,
    "AWS::CloudWatch::Alarm": _delete_alarm,
    "AWS::Lambda::EventSourceMapping": _delete_mapping,
    "AWS::Scheduler::Schedule": _delete_schedule,
}


def roll_back(clients: Clients, stack: DeployedStack, direct: tuple[str, ...]) -> list[str]:
    """Delete what provisioning made of ``stack``; return what could not be deleted."""
    failed: list[str] = []
    for lid in reversed([lid for lid in direct if lid in stack.resources]):
        rtype, physical = stack.resources[lid]
        deleter = DELETERS.get(rtype)
        if deleter is None:
            continue
        try:
            deleter(clients, physical, stack.resolve(stack.template["Resources"][lid].get("Properties", {})))
        except CREATION_ERRORS as exc:
            failed.append(f"{lid} ({rtype}): {exc}")
    failed += _delete_stack(clients, stack.stack_name)
    for rtype, physical in stack.resources.values():
        if rtype == "AWS::StepFunctions::StateMachine":
            with contextlib.suppress(*SERVICE_ERRORS):  # already gone with the stack
                clients.stepfunctions.delete_state_machine(stateMachineArn=physical)
    return failed


def _delete_stack(clients: Clients, stack_name: str) -> list[str]:
    cfn = clients.cloudformation
    try:
        cfn.delete_stack(StackName=stack_name)
    except SERVICE_ERRORS as exc:
        return [f"stack {stack_name}: {exc}"]
    deadline = time.monotonic() + _DELETE_TIMEOUT_S
    while time.monotonic() < deadline:
        live = [
            s["StackStatus"]
            for s in cfn.list_stacks()["StackSummaries"]
            if s["StackName"] == stack_name and s["StackStatus"] != "DELETE_COMPLETE"
        ]
        if not live:
            return []
        if live[0] == "DELETE_FAILED":
            return [f"stack {stack_name}: DELETE_FAILED"]
        time.sleep(0.1)
    return [f"stack {stack_name}: still not deleted after {_DELETE_TIMEOUT_S:.0f} s"]
