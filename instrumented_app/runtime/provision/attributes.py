"""What ``Fn::GetAtt`` returns for each resource, as CloudFormation documents it per type.

Most attributes are formatted from the physical id (ARNs follow fixed patterns); the few
that only the service knows (a table's ``StreamArn``, a role's ``Arn``) are read back.
"""

from __future__ import annotations

import hashlib
from typing import Any

from instrumented_app.runtime.provision.clients import Clients


def attributes_of(
    resource_type: str,
    physical_id: str,
    properties: dict[str, Any],
    region: str,
    account: str,
    clients: Clients,
) -> dict[str, str]:
    """The GetAtt attributes of one resource made by CloudFormation (empty when it has none we use)."""
    arn = f"arn:aws:{{service}}:{region}:{account}:{{rest}}"
    if resource_type == "AWS::Lambda::Function":
        return {"Arn": arn.format(service="lambda", rest=f"function:{physical_id}")}
    if resource_type == "AWS::SQS::Queue":
        name = physical_id.rstrip("/").rsplit("/", 1)[-1]
        return {"Arn": arn.format(service="sqs", rest=name), "QueueName": name, "QueueUrl": physical_id}
    if resource_type == "AWS::DynamoDB::Table":
        table = clients.dynamodb.describe_table(TableName=physical_id)["Table"]
        found = {"Arn": table["TableArn"]}
        if "LatestStreamArn" in table:
            found["StreamArn"] = table["LatestStreamArn"]
        return found
    if resource_type == "AWS::SNS::Topic":
        return {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[-1]}
    if resource_type == "AWS::Events::Rule":
        bus = properties.get("EventBusName", "default")
        rest = f"rule/{physical_id}" if bus == "default" else f"rule/{bus}/{physical_id}"
        return {"Arn": arn.format(service="events", rest=rest)}
    if resource_type == "AWS::Events::EventBus":
        return {"Arn": arn.format(service="events", rest=f"event-bus/{physical_id}"), "Name": physical_id}
    if resource_type == "AWS::StepFunctions::StateMachine":
        return {"Arn": physical_id, "Name": physical_id.rsplit(":", 1)[-1]}
    if resource_type == "AWS::Logs::LogGroup":
        return {"Arn": arn.format(service="logs", rest=f"log-group:{physical_id}:*")}
    if resource_type == "AWS::S3::Bucket":
        return {
            "Arn": f"arn:aws:s3:::{physical_id}",
            "DomainName": f"{physical_id}.s3.amazonaws.com",
            "RegionalDomainName": f"{physical_id}.s3.{region}.amazonaws.com",
        }
    if resource_type == "AWS::IAM::Role":
        role = clients.iam.get_role(RoleName=physical_id)["Role"]
        return {"Arn": role["Arn"], "RoleId": role["RoleId"]}
    return {}


def front_served_physical_id(
    resource_type: str, logical_id: str, stack_name: str, properties: dict[str, Any]
) -> str:
    """A stable id for what the API front serves: same stack and logical id, same id, every run."""
    if resource_type == "AWS::ApiGateway::Stage" and isinstance(properties.get("StageName"), str):
        return str(properties["StageName"])
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 20, 2))


def front_served_attributes(resource_type: str, physical_id: str) -> dict[str, str]:
    if resource_type == "AWS::ApiGateway::RestApi":
        return {"RootResourceId": f"{physical_id[:6]}root", "RestApiId": physical_id}
    return {}
