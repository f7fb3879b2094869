"""SAM ``ScheduleV2`` events -> ``AWS::Scheduler::Schedule`` in moto: made with boto3, read back, undone.

moto's CloudFormation does not know the type, so provisioning creates each schedule through the
Scheduler API after the stack; these tests read them back through that API as an operator would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from instrumented_app.runtime.provision import DeployedStack, ProvisioningError, provision
from instrumented_app.runtime.provision.checks import check_stack
from instrumented_app.runtime.provision.clients import Clients
from tests.unit.runtime.provision_moto import REGION, aws_client, moto_server

_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Missed:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: sc-missed
  Job:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: sc-job
      Runtime: python3.11
      CodeUri: .
      Handler: tests.stack.fixtures.handlers.echo.handler
      Events:
        Hourly:
          Type: ScheduleV2
          Properties:
            Name: sc-job-hourly
            ScheduleExpression: cron(0 * * * ? *)
            ScheduleExpressionTimezone: Asia/Tokyo
            FlexibleTimeWindow:
              Mode: "OFF"
            Input: '{"mode": "incremental"}'
            RetryPolicy:
              MaximumRetryAttempts: 3
              MaximumEventAgeInSeconds: 3600
            DeadLetterConfig:
              Arn: !GetAtt Missed.Arn
        Weekly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(7 days)
            State: DISABLED
            Input: '{"mode": "full"}'
"""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def stack(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> DeployedStack:
    template = tmp_path_factory.mktemp("sc") / "schedules.yaml"
    template.write_text(_TEMPLATE, encoding="utf-8")
    return provision(template, endpoint_url=endpoint, region=REGION, stack_name="sc")


def test_a_schedule_is_made_as_declared_and_targets_the_function_with_its_input(
    stack: DeployedStack, endpoint: str
) -> None:
    found = aws_client(endpoint, "scheduler").get_schedule(Name="sc-job-hourly")
    role = aws_client(endpoint, "iam").get_role(RoleName=stack.physical_id("JobHourlyRole"))["Role"]
    assert (found["ScheduleExpression"], found["ScheduleExpressionTimezone"], found["State"]) == (
        "cron(0 * * * ? *)",
        "Asia/Tokyo",
        "ENABLED",
    )
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = found["Target"]
    assert target["Arn"] == "arn:aws:lambda:us-east-1:123456789012:function:sc-job"
    assert target["RoleArn"] == role["Arn"]
    assert json.loads(target["Input"]) == {"mode": "incremental"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": "arn:aws:sqs:us-east-1:123456789012:sc-missed"}


def test_a_schedule_without_a_name_gets_one_and_keeps_its_state(stack: DeployedStack, endpoint: str) -> None:
    name = stack.physical_id("JobWeekly")
    found = aws_client(endpoint, "scheduler").get_schedule(Name=name)
    assert (found["ScheduleExpression"], found["State"]) == ("rate(7 days)", "DISABLED")
    assert json.loads(found["Target"]["Input"]) == {"mode": "full"}
    assert (
        stack.attributes["JobWeekly"]["Arn"]
        == f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{name}"
    )


def test_a_schedule_changed_after_provisioning_is_named_with_what_differs(
    stack: DeployedStack, endpoint: str
) -> None:
    scheduler = aws_client(endpoint, "scheduler")
    found = scheduler.get_schedule(Name="sc-job-hourly")
    changed = {**found["Target"], "Input": '{"mode": "full"}'}
    scheduler.update_schedule(
        Name="sc-job-hourly",
        ScheduleExpression="rate(2 hours)",
        FlexibleTimeWindow=found["FlexibleTimeWindow"],
        Target=changed,
        State="ENABLED",  # moto's UpdateSchedule blanks an omitted State (AWS keeps ENABLED)
    )
    try:
        with pytest.raises(ProvisioningError) as raised:
            check_stack(Clients(endpoint, REGION), stack)
    finally:
        scheduler.update_schedule(
            Name="sc-job-hourly",
            ScheduleExpression=found["ScheduleExpression"],
            ScheduleExpressionTimezone=found["ScheduleExpressionTimezone"],
            FlexibleTimeWindow=found["FlexibleTimeWindow"],
            Target=found["Target"],
            State=found["State"],
        )
    message = str(raised.value)
    prefix = "JobHourly (AWS::Scheduler::Schedule): "
    assert f"{prefix}ScheduleExpression is 'rate(2 hours)', the template says 'cron(0 * * * ? *)'" in message
    assert f"{prefix}ScheduleExpressionTimezone is 'UTC', the template says 'Asia/Tokyo'" in message
    assert (
        f"{prefix}Target.Input is {{'mode': 'full'}}, the template says {{'mode': 'incremental'}}" in message
    )
    check_stack(Clients(endpoint, REGION), stack)  # put back: as declared again


def test_a_failed_provisioning_deletes_the_schedules_it_made(endpoint: str, tmp_path: Path) -> None:
    broken = _TEMPLATE.split("        Weekly:")[0].replace("sc-", "scb-") + (
        "  Denied:\n"
        "    Type: AWS::Lambda::Permission\n"
        "    DependsOn: JobHourly\n"
        "    Properties:\n"
        "      Action: lambda:InvokeFunction\n"
        "      FunctionName: no-such-function\n"
        "      Principal: scheduler.amazonaws.com\n"
    )
    template = tmp_path / "broken.yaml"
    template.write_text(broken, encoding="utf-8")
    with pytest.raises(ProvisioningError, match=r"Denied \(AWS::Lambda::Permission\) could not be created"):
        provision(template, endpoint_url=endpoint, region=REGION, stack_name="scb")
    names = [s["Name"] for s in aws_client(endpoint, "scheduler").list_schedules()["Schedules"]]
    assert "scb-job-hourly" not in names and not [n for n in names if n.startswith("scb-")]
