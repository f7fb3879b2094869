"""Provisioning the one template into moto (a real server on loopback, boto3 over HTTP).

Every assertion reads the resource back through the AWS API, as an operator's tooling would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from instrumented_app.runtime.provision import DeployedStack, ProvisioningError, provision
from instrumented_app.runtime.provision.checks import check_stack
from instrumented_app.runtime.provision.clients import Clients
from instrumented_app.runtime.provision.plan import make_plan
from instrumented_app.runtime.template import APP_TEMPLATE
from tests.unit.runtime.provision_moto import REGION, moto_server
from tests.unit.runtime.provision_moto import aws_client as _client

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_TEMPLATE = ROOT / "tests" / "stack" / "fixtures" / "runtime_template.yaml"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def app_stack(moto_endpoint: str) -> DeployedStack:
    return provision(APP_TEMPLATE, endpoint_url=moto_endpoint, region=REGION, stack_name="app")


@pytest.fixture(scope="module")
def fixture_stack(moto_endpoint: str) -> DeployedStack:
    return provision(FIXTURE_TEMPLATE, endpoint_url=moto_endpoint, region=REGION, stack_name="fx")


# -- the app template ------------------------------------------------------------------------------


def test_app_diagnostics_function_and_its_log_group_exist(
    app_stack: DeployedStack, moto_endpoint: str
) -> None:
    config = _client(moto_endpoint, "lambda").get_function_configuration(FunctionName="sw-diagnostics")
    assert config["Handler"] == "instrumented_app.handlers.diagnostics.handler"
    assert config["Runtime"] == "python3.11"
    assert config["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "sagawatch"
    groups = _client(moto_endpoint, "logs").describe_log_groups(
        logGroupNamePrefix="/aws/lambda/sw-diagnostics"
    )
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups["logGroups"]] == [
        ("/aws/lambda/sw-diagnostics", 14)
    ]


def test_app_reconcile_schedules_target_sw_reconcile_with_their_modes(
    app_stack: DeployedStack, moto_endpoint: str
) -> None:
    """Declared for AWS; locally made and read back but never fired (``sagawatch up`` reconciles)."""
    scheduler = _client(moto_endpoint, "scheduler")
    found = {
        name: scheduler.get_schedule(Name=name) for name in ("sw-reconcile-hourly", "sw-reconcile-nightly")
    }
    assert {name: json.loads(s["Target"]["Input"]) for name, s in found.items()} == {
        "sw-reconcile-hourly": {"mode": "incremental"},
        "sw-reconcile-nightly": {"mode": "full"},
    }
    for schedule in found.values():
        assert schedule["Target"]["Arn"] == app_stack.attributes["ReconcileFunction"]["Arn"]
        assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(":sw-reconcile-schedule-dlq")
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    config = _client(moto_endpoint, "lambda").get_function_configuration(FunctionName="sw-reconcile")
    assert config["Handler"] == "reconciler.handler.handler"
    assert set(config["Environment"]["Variables"]) >= {"DATABASE_URL", "AUDIT_DATABASE_URL"}


def test_resolve_gives_the_function_arn_of_an_api_route(app_stack: DeployedStack) -> None:
    body = app_stack.template["Resources"]["AppApi"]["Properties"]["Body"]
    uri = app_stack.resolve(
        body["paths"]["/diagnostics/ping"]["get"]["x-amazon-apigateway-integration"]["uri"]
    )
    assert uri == (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:sw-diagnostics/invocations"
    )


def test_api_resources_are_served_from_the_template_with_stable_ids(
    app_stack: DeployedStack, moto_endpoint: str
) -> None:
    api_id = app_stack.physical_id("AppApi")
    assert app_stack.resource_type("AppApi") == "AWS::ApiGateway::RestApi"
    assert app_stack.outputs["ApiUrl"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/v1"
    assert _client(moto_endpoint, "apigateway").get_rest_apis()["items"] == []


def test_provisioning_the_same_stack_twice_says_it_exists(
    app_stack: DeployedStack, moto_endpoint: str
) -> None:
    with pytest.raises(ProvisioningError, match="stack 'app' already exists"):
        provision(APP_TEMPLATE, endpoint_url=moto_endpoint, region=REGION, stack_name="app")


# -- the runtime fixture template ------------------------------------------------------------------


def test_work_queue_redrives_to_its_dlq_after_two_receives(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    sqs = _client(moto_endpoint, "sqs")
    url = sqs.get_queue_url(QueueName="fx-work")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:fx-work-dlq",
        "maxReceiveCount": 2,
    }
    assert attributes["VisibilityTimeout"] == "2"
    assert fixture_stack.resolve({"Ref": "WorkQueue"}).endswith("/fx-work")


def test_sqs_event_source_mapping_reports_batch_item_failures(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    mappings = _client(moto_endpoint, "lambda").list_event_source_mappings(FunctionName="fx-batch-worker")
    (mapping,) = mappings["EventSourceMappings"]
    assert mapping["EventSourceArn"] == "arn:aws:sqs:us-east-1:123456789012:fx-work"
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_source_table_streams_new_and_old_images_to_the_recorder(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    table = _client(moto_endpoint, "dynamodb").describe_table(TableName="fx-source")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["by-kind"]
    (mapping,) = _client(moto_endpoint, "lambda").list_event_source_mappings(
        FunctionName="fx-stream-recorder"
    )["EventSourceMappings"]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    recorder = _client(moto_endpoint, "lambda").get_function_configuration(FunctionName="fx-stream-recorder")
    assert recorder["Environment"]["Variables"]["SEEN_TABLE"] == "fx-seen"


def test_canary_alias_sends_five_percent_to_version_two_whose_variant_differs(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    lam = _client(moto_endpoint, "lambda")
    alias = lam.get_alias(FunctionName="fx-canary", Name="live")
    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.05}
    variants = {
        version: lam.get_function_configuration(FunctionName="fx-canary", Qualifier=version)["Environment"][
            "Variables"
        ]["VARIANT"]
        for version in ("1", "2", "$LATEST")
    }
    assert variants == {"1": "blue", "2": "green", "$LATEST": "green"}


def test_canary_route_resolves_to_the_alias_arn(fixture_stack: DeployedStack) -> None:
    body = fixture_stack.template["Resources"]["FixtureApi"]["Properties"]["Body"]
    uri = fixture_stack.resolve(body["paths"]["/canary"]["get"]["x-amazon-apigateway-integration"]["uri"])
    assert uri.endswith(
        "/functions/arn:aws:lambda:us-east-1:123456789012:function:fx-canary:live/invocations"
    )


def test_state_machine_definition_has_its_substitutions_applied(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    sfn = _client(moto_endpoint, "stepfunctions")
    found = sfn.describe_state_machine(stateMachineArn=fixture_stack.physical_id("RetryCatchStateMachine"))
    states = json.loads(found["definition"])["States"]
    assert states["Work"]["Resource"] == "arn:aws:lambda:us-east-1:123456789012:function:fx-step-work"
    assert (
        states["Compensate"]["Resource"]
        == "arn:aws:lambda:us-east-1:123456789012:function:fx-step-compensate"
    )
    assert states["Work"]["Catch"][0]["Next"] == "Compensate"


def test_sns_subscription_has_its_filter_policy_and_raw_delivery(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    sns = _client(moto_endpoint, "sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=fixture_stack.physical_id("OrdersTopic"))[
        "Subscriptions"
    ]
    assert subscription["Endpoint"] == "arn:aws:sqs:us-east-1:123456789012:fx-billing"
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])[
        "Attributes"
    ]
    assert json.loads(attributes["FilterPolicy"]) == {"event_type": ["order_placed", "order_refunded"]}
    assert attributes["RawMessageDelivery"] == "true"


def test_eventbridge_rule_filters_big_orders_to_the_vip_queue(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    events = _client(moto_endpoint, "events")
    rule = events.describe_rule(Name="fx-big-order")
    assert json.loads(rule["EventPattern"])["detail"] == {"amount": [{"numeric": [">=", 10000]}]}
    targets = events.list_targets_by_rule(Rule="fx-big-order")["Targets"]
    assert [(t["Id"], t["Arn"]) for t in targets] == [("vip", "arn:aws:sqs:us-east-1:123456789012:fx-vip")]


def test_upload_bucket_notifies_the_upload_function(fixture_stack: DeployedStack, moto_endpoint: str) -> None:
    config = _client(moto_endpoint, "s3").get_bucket_notification_configuration(Bucket="fx-uploads")
    (notification,) = config["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:fx-upload"
    assert notification["Events"] == ["s3:ObjectCreated:*"]


def test_metric_filter_and_alarm_exist(fixture_stack: DeployedStack, moto_endpoint: str) -> None:
    filters = _client(moto_endpoint, "logs").describe_metric_filters(logGroupName="/aws/lambda/fx-echo")
    (metric_filter,) = filters["metricFilters"]
    assert metric_filter["filterPattern"] == '{ $.level = "ERROR" }'
    assert metric_filter["metricTransformations"][0]["metricName"] == "EchoErrors"
    (alarm,) = _client(moto_endpoint, "cloudwatch").describe_alarms(AlarmNames=["fx-echo-errors"])[
        "MetricAlarms"
    ]
    assert (alarm["MetricName"], alarm["Threshold"], alarm["AlarmActions"]) == (
        "EchoErrors",
        1.0,
        [fixture_stack.physical_id("OrdersTopic")],
    )


def test_api_permissions_are_granted_to_api_gateway(fixture_stack: DeployedStack, moto_endpoint: str) -> None:
    policy = json.loads(_client(moto_endpoint, "lambda").get_policy(FunctionName="fx-echo")["Policy"])
    sids = {statement["Sid"] for statement in policy["Statement"]}
    assert {"EchoFunctionEchoPermissionv1", "EchoFunctionValidatedPermissionv1"} <= sids


def test_every_declared_resource_has_a_physical_id(fixture_stack: DeployedStack) -> None:
    declared = set(fixture_stack.template["Resources"])
    assert set(fixture_stack.resources) == declared
    assert all(physical for _type, physical in fixture_stack.resources.values())


def test_a_resource_that_drifted_is_named_with_what_differs(
    fixture_stack: DeployedStack, moto_endpoint: str
) -> None:
    sqs = _client(moto_endpoint, "sqs")
    url = sqs.get_queue_url(QueueName="fx-vip")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45"})
    drifted = json.loads(json.dumps(fixture_stack.template))
    drifted["Resources"]["VipQueue"]["Properties"]["VisibilityTimeout"] = 30
    stack = DeployedStack(
        fixture_stack.stack_name,
        fixture_stack.region,
        fixture_stack.account_id,
        drifted,
        fixture_stack.resources,
        fixture_stack.attributes,
    )
    with pytest.raises(ProvisioningError) as raised:
        check_stack(Clients(moto_endpoint, REGION), stack)
    assert "VipQueue (AWS::SQS::Queue): VisibilityTimeout is '45', the template says '30'" in str(
        raised.value
    )


# -- planning, without a server --------------------------------------------------------------------


def test_an_unsupported_resource_type_is_named_before_anything_is_made() -> None:
    template = {"Resources": {"Bus": {"Type": "AWS::Kinesis::Stream", "Properties": {}}}}
    with pytest.raises(ProvisioningError, match=r"Bus \(AWS::Kinesis::Stream\)"):
        make_plan(template)


def test_an_event_source_mapping_on_an_alias_is_created_after_the_alias() -> None:
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"FunctionName": {"Ref": "Live"}, "EventSourceArn": "arn:aws:sqs:::q"},
            },
            "Live": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}}},
            "Bucket": {"Type": "AWS::S3::Bucket", "DependsOn": ["Perm", "Fn"], "Properties": {}},
            "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        }
    }
    plan = make_plan(template)
    assert plan.direct == ("Live", "Perm", "Mapping")
    assert set(plan.cfn_template["Resources"]) == {"Fn", "Bucket"}
    assert plan.cfn_template["Resources"]["Bucket"]["DependsOn"] == ["Fn"]


def test_a_cloudformation_resource_needing_a_later_one_is_refused_with_both_names() -> None:
    template = {
        "Resources": {
            "Live": {"Type": "AWS::Lambda::Alias", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Live"}}},
        }
    }
    with pytest.raises(ProvisioningError, match=r"Queue \(AWS::SQS::Queue\) refers to Live"):
        make_plan(template)


# -- resolving intrinsics, without a server --------------------------------------------------------


def _stack() -> DeployedStack:
    return DeployedStack(
        stack_name="demo",
        region="eu-west-1",
        account_id="111122223333",
        template={
            "Parameters": {"Stage": {"Type": "String", "Default": "v1"}},
            "Conditions": {"IsV1": {"Fn::Equals": [{"Ref": "Stage"}, "v1"]}},
            "Resources": {},
        },
        resources={
            "Fn": ("AWS::Lambda::Function", "demo-fn"),
            "Queue": ("AWS::SQS::Queue", "https://sqs.eu-west-1.amazonaws.com/111122223333/demo-q"),
        },
        attributes={"Fn": {"Arn": "arn:aws:lambda:eu-west-1:111122223333:function:demo-fn"}},
    )


def test_sub_resolves_refs_attributes_pseudo_parameters_and_escapes() -> None:
    text = "${AWS::Region}/${AWS::AccountId}/${AWS::StackName}/${Fn}/${Fn.Arn}/${Stage}/${!Literal}"
    assert _stack().resolve({"Fn::Sub": text}) == (
        "eu-west-1/111122223333/demo/demo-fn/arn:aws:lambda:eu-west-1:111122223333:function:demo-fn/v1/${Literal}"
    )


def test_sub_with_variables_join_select_split_and_if_nest() -> None:
    stack = _stack()
    value = {
        "Env": {
            "Fn::Join": [
                ":",
                [
                    {"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Fn"}}]},
                    {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "Queue"}]}]},
                    {"Fn::If": ["IsV1", "first", "later"]},
                ],
            ]
        }
    }
    assert stack.resolve(value) == {"Env": "demo-fn-x::first"}


def test_no_value_removes_the_property_and_find_in_map_reads_mappings() -> None:
    stack = _stack()
    stack.template["Mappings"] = {"Sizes": {"v1": {"Memory": 256}}}
    value = {
        "MemorySize": {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]},
        "ReservedConcurrency": {"Fn::If": ["IsV1", {"Ref": "AWS::NoValue"}, 5]},
        "Layers": [{"Ref": "AWS::NoValue"}, "layer-a"],
    }
    assert stack.resolve(value) == {"MemorySize": 256, "Layers": ["layer-a"]}


def test_an_unknown_attribute_names_the_resource_and_what_is_known() -> None:
    with pytest.raises(ProvisioningError, match=r"Fn::GetAtt Fn\.StreamArn: not known .*known: Arn"):
        _stack().resolve({"Fn::GetAtt": ["Fn", "StreamArn"]})


def test_a_ref_to_nothing_is_named() -> None:
    with pytest.raises(ProvisioningError, match="Ref to 'Missing'"):
        _stack().resolve({"Ref": "Missing"})


# -- failures leave nothing behind -----------------------------------------------------------------

_BROKEN_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: broken-orders
  Billing:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: broken-billing
  BillingSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Orders
      Protocol: sqs
      Endpoint: !GetAtt Billing.Arn
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: broken-bus
  ToBilling:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [orders]
      Targets:
        - Id: billing
          Arn: !GetAtt Billing.Arn
  InvokePermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: no-such-function
      Principal: sns.amazonaws.com
      SourceArn: !Ref Orders
"""


def test_a_resource_that_cannot_be_made_is_named_and_the_stack_rolled_back(
    moto_endpoint: str, tmp_path: Path
) -> None:
    template = tmp_path / "broken.yaml"
    template.write_text(_BROKEN_TEMPLATE, encoding="utf-8")

    with pytest.raises(ProvisioningError) as raised:
        provision(template, endpoint_url=moto_endpoint, region=REGION, stack_name="broken")

    message = str(raised.value)
    assert "InvokePermission (AWS::Lambda::Permission) could not be created" in message
    assert "(stack 'broken' rolled back)" in message
    queues = _client(moto_endpoint, "sqs").list_queues(QueueNamePrefix="broken-").get("QueueUrls", [])
    topics = [t["TopicArn"] for t in _client(moto_endpoint, "sns").list_topics()["Topics"]]
    subscriptions = _client(moto_endpoint, "sns").list_subscriptions()["Subscriptions"]
    assert queues == []
    assert not [t for t in topics if t.endswith(":broken-orders")]
    assert not [s for s in subscriptions if s["TopicArn"].endswith(":broken-orders")]
    buses = [b["Name"] for b in _client(moto_endpoint, "events").list_event_buses()["EventBuses"]]
    assert "broken-bus" not in buses

    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(_BROKEN_TEMPLATE.split("  InvokePermission:")[0], encoding="utf-8")
    again = provision(fixed, endpoint_url=moto_endpoint, region=REGION, stack_name="broken")
    assert again.physical_id("Billing").endswith("/broken-billing")


def test_route_tables_give_the_api_front_each_api_on_its_stage_with_its_id(
    app_stack: DeployedStack, fixture_stack: DeployedStack
) -> None:
    from instrumented_app.runtime.api_front.from_template import route_tables_from_template

    (app_api,) = route_tables_from_template(app_stack.template, app_stack.resolve).items()
    assert (app_api[0], app_api[1].stage, app_api[1].api_id) == (
        "AppApi",
        "v1",
        app_stack.physical_id("AppApi"),
    )
    assert "/diagnostics/ping" in {route.resource for route in app_api[1].routes}
    (fixture_api,) = route_tables_from_template(fixture_stack.template, fixture_stack.resolve).values()
    assert {route.resource for route in fixture_api.routes} == {
        "/echo",
        "/validated",
        "/mock/status",
        "/canary",
    }


def test_the_api_front_reads_every_fixture_route_through_resolve(fixture_stack: DeployedStack) -> None:
    """The provisioned stack and the API front agree: names resolve to functions that exist."""
    from instrumented_app.runtime.api_front.from_template import route_tables_from_template
    from instrumented_app.runtime.api_front.routes import LambdaTarget, MockResponse

    (table,) = route_tables_from_template(fixture_stack.template, fixture_stack.resolve).values()
    targets = {(route.method, route.resource): route.integration for route in table.routes}
    assert targets[("GET", "/echo")] == LambdaTarget(
        "fx-echo", None, "arn:aws:lambda:us-east-1:123456789012:function:fx-echo"
    )
    assert targets[("POST", "/validated")] == targets[("GET", "/echo")]
    assert targets[("GET", "/canary")] == LambdaTarget(
        "fx-canary", "live", "arn:aws:lambda:us-east-1:123456789012:function:fx-canary"
    )
    assert isinstance(targets[("GET", "/mock/status")], MockResponse)


def test_the_app_provisions_in_another_region_with_that_regions_arns(moto_endpoint: str) -> None:
    stack = provision(APP_TEMPLATE, endpoint_url=moto_endpoint, region="eu-west-1", stack_name="app-eu")
    assert stack.attributes["DiagnosticsFunction"]["Arn"] == (
        "arn:aws:lambda:eu-west-1:123456789012:function:sw-diagnostics"
    )
    make: Any = boto3.client
    lam = make(
        "lambda",
        endpoint_url=moto_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert lam.get_function_configuration(FunctionName="sw-diagnostics")["FunctionArn"].startswith(
        "arn:aws:lambda:eu-west-1:"
    )


# -- every trigger kind SAM offers, aimed at an alias where it can be ------------------------------

_TRIGGERS_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: .
    Handler: tests.stack.fixtures.handlers.echo.handler
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: tr-topic
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: tr-bus
  Work:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: tr-work
  OnTopic:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: tr-on-topic
      Events:
        Direct:
          Type: SNS
          Properties:
            Topic: !Ref Topic
            FilterPolicy:
              kind: [a]
        Queued:
          Type: SNS
          Properties:
            Topic: !Ref Topic
            SqsSubscription: true
  OnRule:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: tr-on-rule
      AutoPublishAlias: live
      Events:
        Big:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern:
              source: [orders]
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
"""


def test_sns_eventbridge_schedule_and_sqs_triggers_on_an_alias_all_provision(
    moto_endpoint: str, tmp_path: Path
) -> None:
    template = tmp_path / "triggers.yaml"
    template.write_text(_TRIGGERS_TEMPLATE, encoding="utf-8")
    stack = provision(template, endpoint_url=moto_endpoint, region=REGION, stack_name="tr")
    alias_arn = "arn:aws:lambda:us-east-1:123456789012:function:tr-on-rule:live"

    events = _client(moto_endpoint, "events")
    big = stack.physical_id("OnRuleBig")
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=big, EventBusName="tr-bus")["Targets"]] == [
        alias_arn
    ]
    nightly = events.describe_rule(Name=stack.physical_id("OnRuleNightly"))
    assert nightly["ScheduleExpression"] == "rate(1 day)"

    sns = _client(moto_endpoint, "sns")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=stack.physical_id("Topic"))["Subscriptions"]
    assert sorted(s["Protocol"] for s in subscriptions) == ["lambda", "sqs"]
    queued_url = stack.physical_id("OnTopicQueuedQueue")
    policy = _client(moto_endpoint, "sqs").get_queue_attributes(
        QueueUrl=queued_url, AttributeNames=["Policy"]
    )
    (statement,) = json.loads(policy["Attributes"]["Policy"])["Statement"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": stack.physical_id("Topic")}}

    (mapping,) = _client(moto_endpoint, "lambda").list_event_source_mappings(
        EventSourceArn="arn:aws:sqs:us-east-1:123456789012:tr-work"
    )["EventSourceMappings"]
    # moto records the version the alias points to where Lambda keeps the alias (see checks.py)
    assert mapping["FunctionArn"] in {
        alias_arn,
        "arn:aws:lambda:us-east-1:123456789012:function:tr-on-rule:1",
    }


def test_a_name_already_taken_in_moto_is_reported_in_the_services_words(
    moto_endpoint: str, tmp_path: Path
) -> None:
    _client(moto_endpoint, "dynamodb").create_table(
        TableName="taken-table",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    template = tmp_path / "taken.yaml"
    template.write_text(
        "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
        "      TableName: taken-table\n      BillingMode: PAY_PER_REQUEST\n"
        "      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]\n"
        "      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ProvisioningError) as raised:
        provision(template, endpoint_url=moto_endpoint, region=REGION, stack_name="taken")
    assert "refused stack 'taken': ResourceInUseException: Table already exists: taken-table" in str(
        raised.value
    )
