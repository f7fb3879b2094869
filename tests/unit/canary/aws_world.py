"""What the canary's edge tests build on moto: a function with two versions behind an alias, and
Lambda-shaped log streams."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from sagawatch.aws import aws_session

REGION = "us-east-1"


class Aws:
    """boto3 clients on one moto server."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        session = aws_session(REGION, endpoint)
        self.lambda_ = session.client("lambda", endpoint_url=endpoint)
        self.logs = session.client("logs", endpoint_url=endpoint)
        self.cloudwatch = session.client("cloudwatch", endpoint_url=endpoint)
        self.iam = session.client("iam", endpoint_url=endpoint)

    def canary_function(self, name: str, weight: float | None = 0.05) -> None:
        """A function with versions 1 and 2 and an alias ``live`` on 1, sending ``weight`` to 2."""
        role = self.iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
        self.lambda_.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": code.getvalue()},
        )
        self.lambda_.publish_version(FunctionName=name, Description="v1")
        self.lambda_.update_function_configuration(FunctionName=name, Description="changed")
        self.lambda_.publish_version(FunctionName=name, Description="v2")
        weights = {} if weight is None else {"2": weight}
        self.lambda_.create_alias(
            FunctionName=name,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": weights},
        )


def lambda_stream(aws: Aws, group: str, version: str, token: str, lines: list[str], at: datetime) -> None:
    stream = f"{at:%Y/%m/%d}/[{version}]{token}"
    aws.logs.create_log_stream(logGroupName=group, logStreamName=stream)
    stamp = int(at.timestamp() * 1000)
    aws.logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": stamp + i, "message": line} for i, line in enumerate(lines)],
    )


def invocation_lines(request_id: str, ms: float, failed: bool) -> list[str]:
    middle = ["[ERROR] RuntimeError: defect\rTraceback (most recent call last):"] if failed else []
    return [
        f"START RequestId: {request_id} Version: x",
        *middle,
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {int(ms) + 1} ms",
    ]
