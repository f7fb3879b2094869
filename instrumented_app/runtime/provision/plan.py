"""Which resources moto's CloudFormation makes, which are made with boto3, which nobody makes.

Probed against moto 5.2.5: its ``create_stack`` builds queues (redrive policies),
tables (streams, GSIs), functions, event source mappings (batch size,
``FunctionResponseTypes``), topics, EventBridge rules with targets, state machines,
log groups, buckets and IAM roles. It rejects SAM's API Gateway resources ("The REST
API doesn't contain any methods"), skips with only a warning ``AWS::Lambda::Alias``,
``AWS::SNS::Subscription``, ``AWS::Logs::MetricFilter``, ``AWS::CloudWatch::Alarm``
and ``AWS::SQS::QueuePolicy``, and publishes ``AWS::Lambda::Version`` without a
physical id (and a second one not at all when the function did not change); an
``AWS::Events::EventBus`` it makes has no physical id either; it does not know
``AWS::Scheduler::Schedule`` (SAM's ``ScheduleV2`` events), though moto's
Scheduler API does. Those are created directly, after the stack. API Gateway is
the local API front's job: it serves the routes from the template, so nothing of
it is created in moto.

This module is pure: it only reads the translated template.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from instrumented_app.runtime.provision.errors import ProvisioningError

#: Served by the local API front straight from the template; nothing to create in moto.
FRONT_SERVED_PREFIX = "AWS::ApiGateway::"

#: What moto's CloudFormation creates faithfully (each is checked after the stack is made).
CFN_TYPES = frozenset(
    {
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::Lambda::EventSourceMapping",
        "AWS::SNS::Topic",
        "AWS::Events::Rule",
        "AWS::StepFunctions::StateMachine",
        "AWS::Logs::LogGroup",
        "AWS::S3::Bucket",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
    }
)

#: Created with boto3 after the stack, in dependency order.
DIRECT_TYPES = frozenset(
    {
        "AWS::Events::EventBus",
        "AWS::Lambda::Version",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Permission",
        "AWS::SNS::Subscription",
        "AWS::SQS::QueuePolicy",
        "AWS::Logs::MetricFilter",
        "AWS::CloudWatch::Alarm",
        "AWS::Scheduler::Schedule",
    }
)

#: CloudFormation-made types that move to direct creation when they refer to a direct resource
#: (an event source mapping or a rule target on an alias: the alias only exists after the stack).
MOVABLE_TYPES = frozenset({"AWS::Lambda::EventSourceMapping", "AWS::Events::Rule"})

#: Properties moto's CloudFormation ignores; they are applied after the direct resources exist
#: (so they may name an alias), and are left out of what CloudFormation receives.
DEFERRED_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": ("NotificationConfiguration",),
    "AWS::StepFunctions::StateMachine": ("DefinitionSubstitutions",),
}


@dataclass(frozen=True)
class Plan:
    """How each resource of a translated template comes to exist."""

    cfn_template: dict[str, Any]  # what moto's CloudFormation receives
    via_cfn: tuple[str, ...]
    direct: tuple[str, ...]  # in creation order: each after everything it refers to
    front_served: tuple[str, ...]


def make_plan(template: dict[str, Any]) -> Plan:
    """Split the template's resources; an unknown type is an error naming it, before anything is made."""
    resources: dict[str, Any] = template["Resources"]
    front = [lid for lid, r in resources.items() if r["Type"].startswith(FRONT_SERVED_PREFIX)]
    direct = {lid for lid, r in resources.items() if r["Type"] in DIRECT_TYPES}
    unknown = [
        f"{lid} ({r['Type']})"
        for lid, r in resources.items()
        if lid not in direct and lid not in front and r["Type"] not in CFN_TYPES
    ]
    if unknown:
        raise ProvisioningError(
            "the local stack cannot provision these resource types yet: " + ", ".join(unknown)
        )
    _move_dependents_to_direct(resources, direct, set(front))
    via_cfn = tuple(lid for lid in resources if lid not in direct and lid not in front)
    cfn_resources = {lid: _for_cloudformation(resources[lid], set(via_cfn)) for lid in via_cfn}
    cfn_template = {
        key: copy.deepcopy(value)
        for key, value in template.items()
        if key in ("AWSTemplateFormatVersion", "Parameters", "Mappings", "Conditions")
    }
    cfn_template["Resources"] = cfn_resources
    return Plan(
        cfn_template=cfn_template,
        via_cfn=via_cfn,
        direct=creation_order(resources, direct),
        front_served=tuple(front),
    )


def references(value: Any) -> set[str]:
    """Logical ids (and parameter names) that ``value`` refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument.split(".")[0] if isinstance(argument, str) else str(argument[0]))
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                local = set() if isinstance(argument, str) else set(argument[1])
                found |= {name for name in _sub_names(text) if name not in local}
                if not isinstance(argument, str):
                    found |= references(argument[1])
            else:
                found |= references(argument)
    return found


def depends_on(resource: dict[str, Any]) -> set[str]:
    """Everything a resource needs to exist first: its references and its ``DependsOn``."""
    explicit = resource.get("DependsOn", [])
    explicit = [explicit] if isinstance(explicit, str) else list(explicit)
    return references(resource.get("Properties", {})) | set(explicit)


def creation_order(resources: dict[str, Any], chosen: set[str]) -> tuple[str, ...]:
    """``chosen`` ordered so each comes after what it depends on; ties keep template order."""
    pending = [lid for lid in resources if lid in chosen]
    needs = {lid: depends_on(resources[lid]) & chosen for lid in pending}
    ordered: list[str] = []
    while pending:
        ready = [lid for lid in pending if needs[lid] <= set(ordered)]
        if not ready:
            raise ProvisioningError("these resources depend on each other in a cycle: " + ", ".join(pending))
        ordered.extend(ready)
        pending = [lid for lid in pending if lid not in ready]
    return tuple(ordered)


def _sub_names(text: str) -> set[str]:
    import re

    names = set()
    for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
        if not name.startswith("AWS::"):
            names.add(name.split(".")[0])
    return names


def _move_dependents_to_direct(resources: dict[str, Any], direct: set[str], front: set[str]) -> None:
    """A CloudFormation-made resource cannot refer to one made later: move it, or say why not."""
    changed = True
    while changed:  # bounded: each pass moves at least one resource or stops
        changed = False
        for lid, resource in resources.items():
            if lid in direct or lid in front:
                continue
            later = sorted(references(_undeferred(resource)) & (direct | front))
            if not later:
                continue
            if resource["Type"] in MOVABLE_TYPES:
                direct.add(lid)
                changed = True
            else:
                raise ProvisioningError(
                    f"{lid} ({resource['Type']}) refers to {', '.join(later)}, which moto's CloudFormation "
                    "cannot create; the local stack cannot provision this combination yet"
                )


def _undeferred(resource: dict[str, Any]) -> dict[str, Any]:
    """The properties CloudFormation receives: all but the deferred ones."""
    deferred = DEFERRED_PROPERTIES.get(resource["Type"], ())
    return {key: value for key, value in resource.get("Properties", {}).items() if key not in deferred}


def _for_cloudformation(resource: dict[str, Any], kept: set[str]) -> dict[str, Any]:
    """A copy without deferred properties, whose ``DependsOn`` names only resources CloudFormation makes."""
    result = copy.deepcopy(resource)
    if "Properties" in result:
        result["Properties"] = copy.deepcopy(_undeferred(resource))
    explicit = result.get("DependsOn")
    if explicit is not None:
        names = [explicit] if isinstance(explicit, str) else list(explicit)
        remaining = [name for name in names if name in kept]
        if remaining:
            result["DependsOn"] = remaining
        else:
            del result["DependsOn"]
    return result
