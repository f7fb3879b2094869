"""Resources created with boto3, after the stack: what moto's CloudFormation skips or gets wrong.

Each creator takes the resource's properties already resolved against the stack so far
and returns its physical id (what ``Ref`` gives) and its ``Fn::GetAtt`` attributes.
CloudFormation property names are turned into the API's names here, in one place each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from instrumented_app.runtime.provision.clients import Clients
from instrumented_app.runtime.provision.errors import ProvisioningError

Created = tuple[str, dict[str, str]]
Creator = Callable[[Clients, str, dict[str, Any], dict[str, Any], str], Created]

#: Metadata key on an ``AWS::Lambda::Version``: the configuration that version was published
#: with. On AWS an older version comes from an earlier deployment; one template cannot
#: express that, so locally the function is briefly given this configuration to publish it.
PUBLISHED_WITH = ("sagawatch", "PublishedWith")
_RESTORABLE = ("Environment", "Description", "Timeout", "MemorySize", "Handler")


def create_version(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    function = properties["FunctionName"]
    overlay = resource.get("Metadata", {}).get(PUBLISHED_WITH[0], {}).get(PUBLISHED_WITH[1])
    lam = clients.lambda_
    restore: dict[str, Any] = {}
    if overlay:
        unknown = sorted(set(overlay) - set(_RESTORABLE))
        if unknown:
            raise ProvisioningError(
                f"{logical_id}: Metadata.sagawatch.PublishedWith may set {', '.join(_RESTORABLE)}, "
                f"not {', '.join(unknown)}"
            )
        current = lam.get_function_configuration(FunctionName=function)
        restore = {key: current.get(key) for key in overlay}
        if "Environment" in restore:
            restore["Environment"] = {
                "Variables": dict((current.get("Environment") or {}).get("Variables", {}))
            }
            merged = {**restore["Environment"]["Variables"], **overlay["Environment"].get("Variables", {})}
            overlay = {**overlay, "Environment": {"Variables": merged}}
        lam.update_function_configuration(FunctionName=function, **overlay)
    try:
        published = lam.publish_version(FunctionName=function, Description=properties.get("Description", ""))
    finally:
        if restore:
            lam.update_function_configuration(
                FunctionName=function, **{k: v for k, v in restore.items() if v is not None}
            )
    arn, version = published["FunctionArn"], published["Version"]
    return arn, {"Version": version, "FunctionArn": arn}


def alias_routing(properties: dict[str, Any]) -> dict[str, float]:
    """CloudFormation's list of ``{FunctionVersion, FunctionWeight}`` -> the API's ``{version: weight}``."""
    weights = properties.get("RoutingConfig", {}).get("AdditionalVersionWeights", [])
    return {str(w["FunctionVersion"]): float(w["FunctionWeight"]) for w in weights}


def create_alias(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    request: dict[str, Any] = {
        "FunctionName": properties["FunctionName"],
        "Name": properties["Name"],
        "FunctionVersion": str(properties["FunctionVersion"]),
    }
    if "Description" in properties:
        request["Description"] = properties["Description"]
    routing = alias_routing(properties)
    if routing:
        request["RoutingConfig"] = {"AdditionalVersionWeights": routing}
    arn = clients.lambda_.create_alias(**request)["AliasArn"]
    return arn, {"AliasArn": arn}


def create_permission(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    request = {
        key: properties[key]
        for key in ("FunctionName", "Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken")
        if key in properties
    }
    clients.lambda_.add_permission(StatementId=logical_id, **request)
    return logical_id, {}


def create_subscription(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    attributes: dict[str, str] = {}
    for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
        if key in properties:
            value = properties[key]
            attributes[key] = value if isinstance(value, str) else json.dumps(value)
    for key in ("FilterPolicyScope", "SubscriptionRoleArn"):
        if key in properties:
            attributes[key] = str(properties[key])
    if "RawMessageDelivery" in properties:
        attributes["RawMessageDelivery"] = str(properties["RawMessageDelivery"]).lower()
    arn = clients.sns.subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, {"Arn": arn}


def create_queue_policy(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    policy = json.dumps(properties["PolicyDocument"])
    for queue_url in properties["Queues"]:
        clients.sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})
    return logical_id, {}


def metric_transformations(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """CloudFormation's ``MetricTransformations`` -> the Logs API's ``metricTransformations``."""
    result = []
    for spec in properties["MetricTransformations"]:
        item: dict[str, Any] = {
            "metricName": spec["MetricName"],
            "metricNamespace": spec["MetricNamespace"],
            "metricValue": str(spec["MetricValue"]),
        }
        if "DefaultValue" in spec:
            item["defaultValue"] = float(spec["DefaultValue"])
        if "Unit" in spec:
            item["unit"] = spec["Unit"]
        if "Dimensions" in spec:
            item["dimensions"] = {d["Key"]: d["Value"] for d in spec["Dimensions"]}
        result.append(item)
    return result


def create_metric_filter(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    name = properties.get("FilterName") or f"{stack_name}-{logical_id}"
    clients.logs.put_metric_filter(
        logGroupName=properties["LogGroupName"],
        filterName=name,
        filterPattern=properties["FilterPattern"],
        metricTransformations=metric_transformations(properties),  # type: ignore[arg-type]
    )
    return name, {}


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Unit",
    "DatapointsToAlarm",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def create_alarm(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    name = properties.get("AlarmName") or f"{stack_name}-{logical_id}"
    request: dict[str, Any] = {key: properties[key] for key in _ALARM_KEYS if key in properties}
    request["EvaluationPeriods"] = int(properties["EvaluationPeriods"])
    if "Period" in properties:
        request["Period"] = int(properties["Period"])
    if "Threshold" in properties:
        request["Threshold"] = float(properties["Threshold"])
    clients.cloudwatch.put_metric_alarm(AlarmName=name, **request)
    arn = clients.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return name, {"Arn": arn}


def create_event_source_mapping(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    uuid = clients.lambda_.create_event_source_mapping(**properties)["UUID"]
    return uuid, {"Id": uuid}


def create_event_bus(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    name = properties["Name"]
    arn = clients.events.create_event_bus(Name=name)["EventBusArn"]
    return name, {"Arn": arn, "Name": name}


_RULE_KEYS = ("Description", "ScheduleExpression", "State", "EventBusName", "RoleArn")


def create_rule(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    name = properties.get("Name") or f"{stack_name}-{logical_id}"[:64]
    request: dict[str, Any] = {key: properties[key] for key in _RULE_KEYS if key in properties}
    if "EventPattern" in properties:
        pattern = properties["EventPattern"]
        request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    arn = clients.events.put_rule(Name=name, **request)["RuleArn"]
    targets = properties.get("Targets", [])
    if targets:
        bus = {"EventBusName": properties["EventBusName"]} if "EventBusName" in properties else {}
        clients.events.put_targets(Rule=name, Targets=targets, **bus)
    return name, {"Arn": arn}


_SCHEDULE_KEYS = (
    "Description",
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "State",
    "StartDate",
    "EndDate",
    "KmsKeyArn",
    "Target",
)


def create_schedule(
    clients: Clients, logical_id: str, properties: dict[str, Any], resource: dict[str, Any], stack_name: str
) -> Created:
    """An EventBridge Scheduler schedule: CloudFormation's property names are the API's."""
    name = properties.get("Name") or f"{stack_name}-{logical_id}"[:64]
    request: dict[str, Any] = {key: properties[key] for key in _SCHEDULE_KEYS if key in properties}
    arn = clients.scheduler.create_schedule(Name=name, **request)["ScheduleArn"]
    return name, {"Arn": arn}


CREATORS: dict[str, Creator] = {
    "AWS::Events::EventBus": create_event_bus,
    "AWS::Events::Rule": create_rule,
    "AWS::Lambda::Version": create_version,
    "AWS::Lambda::Alias": create_alias,
    "AWS::Lambda::Permission": create_permission,
    "AWS::SNS::Subscription": create_subscription,
    "AWS::SQS::QueuePolicy": create_queue_policy,
    "AWS::Logs::MetricFilter": create_metric_filter,
    "AWS::CloudWatch::Alarm": create_alarm,
    "AWS::Lambda::EventSourceMapping": create_event_source_mapping,
    "AWS::Scheduler::Schedule": create_schedule,
}


# -- fix-ups of what moto's CloudFormation made but left incomplete ------------------------------


def state_machine_definition(properties: dict[str, Any]) -> str:
    """The ASL as AWS runs it: ``DefinitionString`` or ``Definition``, with ``DefinitionSubstitutions``."""
    if "DefinitionString" in properties:
        definition = str(properties["DefinitionString"])
    else:
        definition = json.dumps(properties["Definition"])
    for name, value in properties.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + name + "}", str(value))
    return definition


def fix_state_machine(clients: Clients, arn: str, properties: dict[str, Any]) -> None:
    """Make the state machine the Step Functions API serves match the template.

    moto's CloudFormation reads only ``DefinitionString`` and never applies
    ``DefinitionSubstitutions``. And with ``execute_state_machine`` on (the embedded stack
    runs ASL for real) the API is served by moto's executing backend, which CloudFormation
    does not write to: there the machine is created under the same name, hence the same ARN.
    """
    definition = state_machine_definition(properties)
    sfn = clients.stepfunctions
    try:
        sfn.update_state_machine(stateMachineArn=arn, definition=definition)
    except sfn.exceptions.StateMachineDoesNotExist:
        tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]
        sfn.create_state_machine(
            name=arn.rsplit(":", 1)[-1],
            definition=definition,
            roleArn=properties["RoleArn"],
            type=properties.get("StateMachineType", "STANDARD"),
            tags=tags,  # type: ignore[arg-type]
        )


def bucket_notifications(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's ``NotificationConfiguration`` -> the S3 API's shape."""
    config = properties.get("NotificationConfiguration", {})
    shapes = (
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
        ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
    )
    result: dict[str, Any] = {}
    for cfn_key, api_key, target_key, api_target_key in shapes:
        items = []
        for spec in config.get(cfn_key, []):
            item: dict[str, Any] = {api_target_key: spec[target_key], "Events": [spec["Event"]]}
            rules = spec.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                item["Filter"] = {"Key": {"FilterRules": rules}}
            items.append(item)
        if items:
            result[api_key] = items
    return result


def fix_bucket(clients: Clients, bucket: str, properties: dict[str, Any]) -> None:
    """moto's CloudFormation ignores a bucket's ``NotificationConfiguration``."""
    notifications = bucket_notifications(properties)
    if notifications:
        clients.s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration=notifications,  # type: ignore[arg-type]
        )
