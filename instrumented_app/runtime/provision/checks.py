"""After provisioning, every declared resource is read back from the service and compared.

A check returns what differs, in words an operator can act on ("RedrivePolicy.maxReceiveCount
is 5, the template says 2"); an empty list means the resource is as declared. A resource
that does not exist at all makes its check raise a service error, reported the same way.

Not compared, because moto 5.2.5 cannot hold them: a function's ``TracingConfig`` (its
CloudFormation path drops it and ``UpdateFunctionConfiguration`` ignores it), and the alias
qualifier of a mapping's ``FunctionArn`` (see ``_function_arns``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from instrumented_app.runtime.provision.clients import Clients
from instrumented_app.runtime.provision.direct import (
    PUBLISHED_WITH,
    alias_routing,
    bucket_notifications,
    metric_transformations,
    state_machine_definition,
)
from instrumented_app.runtime.provision.errors import SERVICE_ERRORS, ProvisioningError, service_error
from instrumented_app.runtime.provision.stack import DeployedStack

Check = Callable[[Clients, DeployedStack, str, dict[str, Any], dict[str, Any]], list[str]]


def _differs(what: str, actual: Any, declared: Any) -> list[str]:
    return [] if actual == declared else [f"{what} is {actual!r}, the template says {declared!r}"]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def check_queue(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    found = clients.sqs.get_queue_attributes(QueueUrl=stack.physical_id(lid), AttributeNames=["All"])
    attributes = found["Attributes"]
    problems: list[str] = []
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "FifoQueue"):
        if key in props:
            problems += _differs(key, attributes.get(key), str(props[key]).lower())
    if "RedrivePolicy" in props:
        declared, actual = _json(props["RedrivePolicy"]), _json(attributes.get("RedrivePolicy", "{}"))
        problems += _differs(
            "RedrivePolicy.deadLetterTargetArn",
            actual.get("deadLetterTargetArn"),
            declared["deadLetterTargetArn"],
        )
        problems += _differs(
            "RedrivePolicy.maxReceiveCount",
            int(actual.get("maxReceiveCount", 0)),
            int(declared["maxReceiveCount"]),
        )
    return problems


def check_table(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    table = clients.dynamodb.describe_table(TableName=stack.physical_id(lid))["Table"]
    problems = _differs("KeySchema", table["KeySchema"], props["KeySchema"])
    stream = props.get("StreamSpecification")
    if stream:
        actual = table.get("StreamSpecification", {})
        problems += _differs("StreamSpecification.StreamEnabled", actual.get("StreamEnabled"), True)
        problems += _differs(
            "StreamSpecification.StreamViewType", actual.get("StreamViewType"), stream["StreamViewType"]
        )
    declared_gsis = sorted(g["IndexName"] for g in props.get("GlobalSecondaryIndexes", []))
    actual_gsis = sorted(g["IndexName"] for g in table.get("GlobalSecondaryIndexes", []))
    return problems + _differs("GlobalSecondaryIndexes", actual_gsis, declared_gsis)


def check_function(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    config = clients.lambda_.get_function_configuration(FunctionName=stack.physical_id(lid))
    problems: list[str] = []
    for key in ("Handler", "Runtime", "Timeout", "MemorySize"):
        if key in props:
            problems += _differs(key, config.get(key), props[key])
    declared_env = props.get("Environment", {}).get("Variables", {})
    actual_env = (config.get("Environment") or {}).get("Variables", {})
    return problems + _differs(
        "Environment.Variables", actual_env, {k: str(v) for k, v in declared_env.items()}
    )


def check_version(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], resource: Any
) -> list[str]:
    version = stack.attributes[lid]["Version"]
    config = clients.lambda_.get_function_configuration(FunctionName=props["FunctionName"], Qualifier=version)
    overlay = resource.get("Metadata", {}).get(PUBLISHED_WITH[0], {}).get(PUBLISHED_WITH[1], {})
    actual_env = (config.get("Environment") or {}).get("Variables", {})
    problems = _differs("Version", config["Version"], version)
    for name, value in overlay.get("Environment", {}).get("Variables", {}).items():
        problems += _differs(
            f"Environment.Variables.{name} of version {version}", actual_env.get(name), value
        )
    return problems


def check_alias(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    alias = clients.lambda_.get_alias(FunctionName=props["FunctionName"], Name=props["Name"])
    weights = {
        k: float(v) for k, v in alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}).items()
    }
    return _differs("FunctionVersion", alias["FunctionVersion"], str(props["FunctionVersion"])) + _differs(
        "RoutingConfig.AdditionalVersionWeights", weights, alias_routing(props)
    )


def check_event_source_mapping(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    mapping = clients.lambda_.get_event_source_mapping(UUID=stack.physical_id(lid))
    function = str(props["FunctionName"])
    problems = _differs("EventSourceArn", mapping.get("EventSourceArn"), props["EventSourceArn"])
    actual = str(mapping.get("FunctionArn", ""))
    if actual not in _function_arns(clients, function):
        problems.append(f"FunctionArn is {actual!r}, the template names {function!r}")
    for key in ("BatchSize", "StartingPosition", "MaximumBatchingWindowInSeconds"):
        if key in props:
            problems += _differs(key, mapping.get(key), props[key])
    return problems + _differs(
        "FunctionResponseTypes",
        mapping.get("FunctionResponseTypes", []),
        props.get("FunctionResponseTypes", []),
    )


def _function_arns(clients: Clients, function: str) -> set[str]:
    """The ARNs a mapping on ``function`` (name, ARN, ``name:qualifier``) may carry.

    moto 5.2.5 deviates from Lambda here and it cannot be fixed through the API: a mapping
    created on an alias records the ARN of the version the alias points to, not the alias.
    """
    config = clients.lambda_.get_function_configuration(FunctionName=function)
    unqualified = (
        config["FunctionArn"].rsplit(":", 1)[0] if config["Version"] != "$LATEST" else config["FunctionArn"]
    )
    qualifier = function.split(":function:")[-1].partition(":")[2] if ":function:" in function else ""
    if not qualifier and ":" in function and not function.startswith("arn:"):
        qualifier = function.partition(":")[2]
    if not qualifier:
        return {unqualified}
    return {f"{unqualified}:{qualifier}", config["FunctionArn"]}


def check_permission(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    policy = json.loads(clients.lambda_.get_policy(FunctionName=props["FunctionName"])["Policy"])
    sids = [statement.get("Sid") for statement in policy.get("Statement", [])]
    return [] if lid in sids else [f"no statement {lid!r} in the function's resource policy"]


def check_topic(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    clients.sns.get_topic_attributes(TopicArn=stack.physical_id(lid))
    return []


def check_subscription(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    found = clients.sns.get_subscription_attributes(SubscriptionArn=stack.physical_id(lid))["Attributes"]
    problems = _differs("TopicArn", found.get("TopicArn"), props["TopicArn"])
    problems += _differs("Endpoint", found.get("Endpoint"), props["Endpoint"])
    if "FilterPolicy" in props:
        problems += _differs(
            "FilterPolicy", _json(found.get("FilterPolicy", "{}")), _json(props["FilterPolicy"])
        )
    if "RawMessageDelivery" in props:
        declared = str(props["RawMessageDelivery"]).lower()
        problems += _differs("RawMessageDelivery", found.get("RawMessageDelivery"), declared)
    return problems


def check_rule(clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any) -> list[str]:
    bus = props.get("EventBusName", "default")
    rule = clients.events.describe_rule(Name=stack.physical_id(lid), EventBusName=bus)
    problems: list[str] = []
    if "EventPattern" in props:
        problems += _differs("EventPattern", _json(rule.get("EventPattern")), _json(props["EventPattern"]))
    if "ScheduleExpression" in props:
        problems += _differs(
            "ScheduleExpression", rule.get("ScheduleExpression"), props["ScheduleExpression"]
        )
    targets = clients.events.list_targets_by_rule(Rule=stack.physical_id(lid), EventBusName=bus)["Targets"]
    actual = sorted((t["Id"], t["Arn"]) for t in targets)
    declared = sorted((t["Id"], t["Arn"]) for t in props.get("Targets", []))
    return problems + _differs("Targets", actual, declared)


def check_state_machine(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    found = clients.stepfunctions.describe_state_machine(stateMachineArn=stack.physical_id(lid))
    declared = json.loads(state_machine_definition(props))
    if json.loads(found["definition"]) != declared:
        return ["its definition differs from the template's (after DefinitionSubstitutions)"]
    return []


def check_log_group(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    name = stack.physical_id(lid)
    groups = clients.logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        return [f"log group {name!r} does not exist"]
    if "RetentionInDays" in props:
        return _differs("RetentionInDays", group.get("retentionInDays"), int(props["RetentionInDays"]))
    return []


def check_metric_filter(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    name = stack.physical_id(lid)
    filters = clients.logs.describe_metric_filters(logGroupName=props["LogGroupName"], filterNamePrefix=name)
    found = next((f for f in filters["metricFilters"] if f.get("filterName") == name), None)
    if found is None:
        return [f"metric filter {name!r} does not exist on {props['LogGroupName']!r}"]
    problems = _differs("FilterPattern", found.get("filterPattern"), props["FilterPattern"])
    keys = ("metricNamespace", "metricName", "metricValue", "defaultValue")
    declared = [tuple(t.get(k) for k in keys) for t in metric_transformations(props)]
    actual = [tuple(t.get(k) for k in keys) for t in found.get("metricTransformations", [])]
    return problems + _differs("MetricTransformations", actual, declared)


def check_alarm(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    alarms = clients.cloudwatch.describe_alarms(AlarmNames=[stack.physical_id(lid)])["MetricAlarms"]
    if not alarms:
        return [f"alarm {stack.physical_id(lid)!r} does not exist"]
    alarm: dict[str, Any] = dict(alarms[0])
    problems: list[str] = []
    for key in (
        "MetricName",
        "Namespace",
        "Statistic",
        "ComparisonOperator",
        "TreatMissingData",
        "AlarmActions",
        "OKActions",
        "Dimensions",
    ):
        if key in props:
            problems += _differs(key, alarm.get(key), props[key])
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in props:
            problems += _differs(key, alarm.get(key), int(props[key]))
    if "Threshold" in props:
        problems += _differs("Threshold", alarm.get("Threshold"), float(props["Threshold"]))
    return problems


def check_bucket(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    bucket = stack.physical_id(lid)
    clients.s3.head_bucket(Bucket=bucket)
    declared = bucket_notifications(props)
    if not declared:
        return []
    found: dict[str, Any] = dict(clients.s3.get_bucket_notification_configuration(Bucket=bucket))
    problems: list[str] = []
    for kind, items in declared.items():
        actual_targets = sorted(
            json.dumps(i, sort_keys=True, default=str) for i in _targets(found.get(kind, []))
        )
        problems += _differs(
            f"NotificationConfiguration.{kind}",
            actual_targets,
            sorted(json.dumps(i, sort_keys=True) for i in _targets(items)),
        )
    return problems


def _targets(items: list[Any]) -> list[dict[str, Any]]:
    keys = ("LambdaFunctionArn", "QueueArn", "TopicArn", "Events")
    return [{k: item[k] for k in keys if k in item} for item in items]


def check_role(clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any) -> list[str]:
    clients.iam.get_role(RoleName=stack.physical_id(lid))
    return []


def check_queue_policy(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    problems: list[str] = []
    for url in props["Queues"]:
        found = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get(
            "Attributes", {}
        )
        problems += _differs(f"Policy of {url}", _json(found.get("Policy", "null")), props["PolicyDocument"])
    return problems


def check_schedule(
    clients: Clients, stack: DeployedStack, lid: str, props: dict[str, Any], _r: Any
) -> list[str]:
    found = clients.scheduler.get_schedule(
        Name=stack.physical_id(lid), GroupName=props.get("GroupName", "default")
    )
    problems = _differs("ScheduleExpression", found.get("ScheduleExpression"), props["ScheduleExpression"])
    problems += _differs(
        "ScheduleExpressionTimezone",
        found.get("ScheduleExpressionTimezone"),
        props.get("ScheduleExpressionTimezone", "UTC"),
    )
    problems += _differs("State", found.get("State"), props.get("State", "ENABLED"))
    problems += _differs("FlexibleTimeWindow", found.get("FlexibleTimeWindow"), props["FlexibleTimeWindow"])
    target, declared = found.get("Target", {}), props["Target"]
    for key in ("Arn", "RoleArn"):
        problems += _differs(f"Target.{key}", target.get(key), declared[key])
    problems += _differs("Target.Input", _json(target.get("Input")), _json(declared.get("Input")))
    problems += _differs(
        "Target.DeadLetterConfig.Arn",
        target.get("DeadLetterConfig", {}).get("Arn"),
        declared.get("DeadLetterConfig", {}).get("Arn"),
    )
    for key, value in declared.get("RetryPolicy", {}).items():
        problems += _differs(f"Target.RetryPolicy.{key}", target.get("RetryPolicy", {}).get(key), int(value))
    return problems


CHECKS: dict[str, Check] = {
    "AWS::SQS::Queue": check_queue,
    "AWS::SQS::QueuePolicy": check_queue_policy,
    "AWS::DynamoDB::Table": check_table,
    "AWS::Lambda::Function": check_function,
    "AWS::Lambda::Version": check_version,
    "AWS::Lambda::Alias": check_alias,
    "AWS::Lambda::EventSourceMapping": check_event_source_mapping,
    "AWS::Lambda::Permission": check_permission,
    "AWS::SNS::Topic": check_topic,
    "AWS::SNS::Subscription": check_subscription,
    "AWS::Events::Rule": check_rule,
    "AWS::StepFunctions::StateMachine": check_state_machine,
    "AWS::Logs::LogGroup": check_log_group,
    "AWS::Logs::MetricFilter": check_metric_filter,
    "AWS::CloudWatch::Alarm": check_alarm,
    "AWS::S3::Bucket": check_bucket,
    "AWS::IAM::Role": check_role,
    "AWS::Scheduler::Schedule": check_schedule,
}


def check_stack(clients: Clients, stack: DeployedStack) -> None:
    """Read every checkable resource back; raise one ``ProvisioningError`` listing all that differ."""
    problems: list[str] = []
    for lid, (rtype, _physical) in stack.resources.items():
        check = CHECKS.get(rtype)
        if check is None:
            continue
        resource = stack.template["Resources"][lid]
        try:
            found = check(clients, stack, lid, stack.resolve(resource.get("Properties", {})), resource)
        except SERVICE_ERRORS as exc:
            found = [f"cannot be read back: {service_error(exc)}"]
        problems += [f"{lid} ({rtype}): {problem}" for problem in found]
    if problems:
        raise ProvisioningError(
            f"stack {stack.stack_name!r} does not match its template:\n  " + "\n  ".join(problems)
        )
