"""``provision``: the SAM template -> a stack in moto, made, fixed up and checked.

The order is the one CloudFormation follows on AWS: the code artefact exists first (as
``sam package`` would have uploaded it), then the stack, then - locally only - what moto's
CloudFormation skips, then every declared resource is read back and compared.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from instrumented_app.runtime.provision.attributes import (
    attributes_of,
    front_served_attributes,
    front_served_physical_id,
)
from instrumented_app.runtime.provision.checks import check_stack
from instrumented_app.runtime.provision.clients import Clients
from instrumented_app.runtime.provision.direct import CREATORS, fix_bucket, fix_state_machine
from instrumented_app.runtime.provision.errors import (
    CREATION_ERRORS,
    SERVICE_ERRORS,
    ProvisioningError,
    service_error,
)
from instrumented_app.runtime.provision.plan import Plan, creation_order, make_plan
from instrumented_app.runtime.provision.rollback import roll_back
from instrumented_app.runtime.provision.stack import DeployedStack
from instrumented_app.runtime.template import translated_template

#: How long moto may take to report CREATE_COMPLETE (it usually has by the time create_stack returns).
STACK_TIMEOUT_S = 60.0
_POLL_S = 0.1
_CAPABILITIES: list[Literal["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]] = [
    "CAPABILITY_IAM",
    "CAPABILITY_NAMED_IAM",
    "CAPABILITY_AUTO_EXPAND",
]


def provision(
    template_path: Path, *, endpoint_url: str, region: str, stack_name: str = "sagawatch-app"
) -> DeployedStack:
    """Create every resource ``template_path`` declares in the AWS at ``endpoint_url`` (moto), and check it.

    Raises ``ProvisioningError`` naming the resource when the template cannot be provisioned, when
    the stack already exists there, or when a resource read back differs from its declaration.
    """
    template = translated_template(template_path, region)
    plan = make_plan(template)
    clients = Clients(endpoint_url=endpoint_url, region=region)
    _refuse_existing(clients, stack_name, endpoint_url)
    _upload_code_artefacts(clients, template)

    account_id = str(clients.sts.get_caller_identity()["Account"])
    resources: dict[str, tuple[str, str]] = {}
    attributes: dict[str, dict[str, str]] = {}
    stack = DeployedStack(stack_name, region, account_id, template, resources, attributes)

    try:
        _create_stack(clients, stack_name, plan)
        _read_back_stack(clients, stack, plan)
        _serve_from_template(stack, plan)
        _create_directly(clients, stack, plan)
        _fix_up(clients, stack, plan)  # after: a deferred property may name a direct resource
        ordered = {lid: resources[lid] for lid in template["Resources"] if lid in resources}
        deployed = DeployedStack(stack_name, region, account_id, template, ordered, dict(attributes))
        check_stack(clients, deployed)
    except (ProvisioningError, ClientError, BotoCoreError, ResponseParserError) as exc:
        leftovers = roll_back(clients, stack, plan.direct)
        undone = "rolled back" if not leftovers else "rolled back except: " + "; ".join(leftovers)
        raise ProvisioningError(f"{exc}\n(stack {stack_name!r} {undone})") from exc
    return deployed


def _refuse_existing(clients: Clients, stack_name: str, endpoint_url: str) -> None:
    """A stack is created once per moto; a second ``provision`` says so instead of half-updating it."""
    # list_stacks, not describe_stacks: moto answers a missing stack with an error botocore retries.
    summaries = clients.cloudformation.list_stacks()["StackSummaries"]
    live = [s for s in summaries if s["StackName"] == stack_name and s["StackStatus"] != "DELETE_COMPLETE"]
    if live:
        raise ProvisioningError(
            f"stack {stack_name!r} already exists at {endpoint_url} (status {live[0]['StackStatus']}); "
            "provisioning makes a stack once: start a fresh moto or choose another stack_name"
        )


def _upload_code_artefacts(clients: Clients, template: dict[str, Any]) -> None:
    """What ``sam package`` uploads. Locally the handlers run from this checkout, so a stub zip will do."""
    artefacts = {
        (code["S3Bucket"], code["S3Key"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        for code in [resource["Properties"].get("Code", {})]
        if isinstance(code.get("S3Bucket"), str) and isinstance(code.get("S3Key"), str)
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "The local runtime imports handlers from the checkout.\n")
    for bucket in sorted({bucket for bucket, _key in artefacts}):
        _ensure_bucket(clients, bucket)
    for bucket, key in sorted(artefacts):
        clients.s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def _ensure_bucket(clients: Clients, bucket: str) -> None:
    """Create ``bucket`` in the clients' region unless this account already has it."""
    try:
        if clients.region == "us-east-1":  # the one region S3 refuses a LocationConstraint for
            clients.s3.create_bucket(Bucket=bucket)
        else:
            clients.s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": clients.region},  # type: ignore[typeddict-item]
            )
    except clients.s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def _create_stack(clients: Clients, stack_name: str, plan: Plan) -> None:
    cfn = clients.cloudformation
    try:
        cfn.create_stack(
            StackName=stack_name, TemplateBody=json.dumps(plan.cfn_template), Capabilities=_CAPABILITIES
        )
    except SERVICE_ERRORS as exc:
        raise ProvisioningError(
            f"moto's CloudFormation refused stack {stack_name!r}: {service_error(exc)}"
        ) from exc
    deadline = time.monotonic() + STACK_TIMEOUT_S
    while True:
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.monotonic() > deadline:
            events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
                for e in events
                if e.get("ResourceStatusReason")
            ]
            raise ProvisioningError(
                f"stack {stack_name!r} ended {status}: " + "; ".join(reasons or ["no reason"])
            )
        time.sleep(_POLL_S)


def _read_back_stack(clients: Clients, stack: DeployedStack, plan: Plan) -> None:
    """Physical ids and GetAtt attributes of what CloudFormation made; a missing one is named."""
    made: dict[str, str] = {}
    paginator = clients.cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack.stack_name):
        for summary in page["StackResourceSummaries"]:
            made[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")
    resources = stack.template["Resources"]
    missing = [lid for lid in plan.via_cfn if _wanted(stack, resources[lid]) and not made.get(lid)]
    if missing:
        raise ProvisioningError(
            "moto's CloudFormation did not create: "
            + ", ".join(f"{lid} ({resources[lid]['Type']})" for lid in missing)
        )
    created = [lid for lid in plan.via_cfn if lid in made]
    for lid in created:
        stack.resources[lid] = (resources[lid]["Type"], made[lid])
    for lid in creation_order(resources, set(created)):  # a GetAtt may need what was made before it
        properties = stack.resolve(resources[lid].get("Properties", {}))
        stack.attributes[lid] = attributes_of(
            resources[lid]["Type"], made[lid], properties, stack.region, stack.account_id, clients
        )


def _serve_from_template(stack: DeployedStack, plan: Plan) -> None:
    """API Gateway resources get stable ids; the local API front serves them from the template."""
    for lid in plan.front_served:
        resource = stack.template["Resources"][lid]
        physical = front_served_physical_id(
            resource["Type"], lid, stack.stack_name, resource.get("Properties", {})
        )
        stack.resources[lid] = (resource["Type"], physical)
        stack.attributes[lid] = front_served_attributes(resource["Type"], physical)


def _fix_up(clients: Clients, stack: DeployedStack, plan: Plan) -> None:
    """What moto's CloudFormation made but left incomplete: ASL substitutions, bucket notifications."""
    fixes = {"AWS::StepFunctions::StateMachine": fix_state_machine, "AWS::S3::Bucket": fix_bucket}
    for lid in plan.via_cfn:
        rtype, physical = stack.resources.get(lid, ("", ""))
        fix = fixes.get(rtype)
        if fix is None:
            continue
        try:
            fix(clients, physical, stack.resolve(stack.template["Resources"][lid].get("Properties", {})))
        except SERVICE_ERRORS as exc:
            raise ProvisioningError(f"{lid} ({rtype}) could not be completed: {service_error(exc)}") from exc


def _create_directly(clients: Clients, stack: DeployedStack, plan: Plan) -> None:
    for lid in plan.direct:
        resource = stack.template["Resources"][lid]
        if not _wanted(stack, resource):
            continue
        properties = stack.resolve(resource.get("Properties", {}))
        try:
            physical, attributes = CREATORS[resource["Type"]](
                clients, lid, properties, resource, stack.stack_name
            )
        except CREATION_ERRORS as exc:
            raise ProvisioningError(
                f"{lid} ({resource['Type']}) could not be created: {service_error(exc)}"
            ) from exc
        stack.resources[lid] = (resource["Type"], physical)
        stack.attributes[lid] = attributes


def _wanted(stack: DeployedStack, resource: dict[str, Any]) -> bool:
    """False for a resource whose ``Condition`` is false: CloudFormation skips it."""
    condition = resource.get("Condition")
    return condition is None or stack.resolve({"Fn::If": [condition, True, False]}) is True
