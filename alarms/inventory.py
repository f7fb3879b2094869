"""What is deployed, read from the AWS APIs: the standard set is built from it, not from code.

A new function, queue or API gets its alarms on the next deploy (or the next pass of the local
loop) without a code change. Only AWS APIs are read (Lambda, CloudWatch Logs, SQS, API Gateway,
CloudWatch), so the same code inventories the embedded stack and a real account.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from alarms.names import API_5XX

log = logging.getLogger(__name__)

LAMBDA_LOG_PREFIX = "/aws/lambda/"
#: Pages read per listing: bounds a pass on a very large account.
MAX_PAGES = 100


@dataclass(frozen=True)
class Inventory:
    """Names of the resources the standard set has alarms for, each sorted and unique."""

    functions: tuple[str, ...] = ()
    dead_letter_queues: tuple[str, ...] = ()
    apis: tuple[tuple[str, str], ...] = ()  # (ApiName, Stage)
    canary_functions: tuple[str, ...] = ()


def _pages(client: Any, operation: str, **params: Any) -> list[dict[str, Any]]:
    paginator = client.get_paginator(operation)
    config = {"MaxItems": None, "PageSize": None}
    pages = []
    for number, page in enumerate(paginator.paginate(**params, PaginationConfig=config)):
        if number >= MAX_PAGES:
            log.warning("inventory: %s has more than %d pages; the rest is left out", operation, MAX_PAGES)
            break
        pages.append(page)
    return pages


def dead_letter_queue_name(redrive_policy: str) -> str | None:
    """The DLQ's name from a queue's ``RedrivePolicy`` attribute (its ``deadLetterTargetArn``)."""
    try:
        arn = json.loads(redrive_policy).get("deadLetterTargetArn")
    except (json.JSONDecodeError, AttributeError):
        return None
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) and arn else None


def read_inventory(session: boto3.session.Session, endpoint_url: str | None) -> Inventory:
    """The live inventory: functions (Lambda and their log groups), DLQs (of queues, functions, rule
    targets and schedules), APIs, canaries."""
    lam = session.client("lambda", endpoint_url=endpoint_url)
    logs = session.client("logs", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)

    configurations = [f for p in _pages(lam, "list_functions") for f in p.get("Functions", [])]
    functions = {f["FunctionName"] for f in configurations}
    functions |= {
        g["logGroupName"][len(LAMBDA_LOG_PREFIX) :]
        for p in _pages(logs, "describe_log_groups", logGroupNamePrefix=LAMBDA_LOG_PREFIX)
        for g in p.get("logGroups", [])
    }
    dlqs: set[str] = set()
    for page in _pages(sqs, "list_queues"):
        for url in page.get("QueueUrls", []):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
            name = dead_letter_queue_name(attributes.get("Attributes", {}).get("RedrivePolicy", ""))
            if name:
                dlqs.add(name)
    dlqs |= _dead_letter_targets(session, endpoint_url, configurations)
    apis = _apis_with_metrics(cloudwatch) | _rest_api_stages(session, endpoint_url)
    canaries = {fn for fn in functions if _has_weighted_alias(lam, fn)}
    return Inventory(
        functions=tuple(sorted(functions)),
        dead_letter_queues=tuple(sorted(dlqs)),
        apis=tuple(sorted(apis)),
        canary_functions=tuple(sorted(canaries)),
    )


def _apis_with_metrics(cloudwatch: Any) -> set[tuple[str, str]]:
    """APIs that report ``5XXError`` (the local API front publishes these as API Gateway does)."""
    found: set[tuple[str, str]] = set()
    for page in _pages(cloudwatch, "list_metrics", Namespace=API_5XX.namespace, MetricName=API_5XX.name):
        for metric in page.get("Metrics", []):
            dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
            if set(dims) == {"ApiName", "Stage"}:
                found.add((dims["ApiName"], dims["Stage"]))
    return found


def _rest_api_stages(session: boto3.session.Session, endpoint_url: str | None) -> set[tuple[str, str]]:
    """REST APIs and their stages from API Gateway (moto holds none: the local front serves them)."""
    client = session.client("apigateway", endpoint_url=endpoint_url)
    found: set[tuple[str, str]] = set()
    try:
        for page in _pages(client, "get_rest_apis"):
            for api in page.get("items", []):
                for stage in client.get_stages(restApiId=api["id"]).get("item", []):
                    found.add((api["name"], stage["stageName"]))
    except (ClientError, BotoCoreError) as exc:
        log.info("inventory: API Gateway not listed (%s)", type(exc).__name__)
    return found


def _sqs_queue_name(arn: Any) -> str | None:
    return arn.rsplit(":", 1)[-1] if isinstance(arn, str) and arn.startswith("arn:aws:sqs:") else None


def _dead_letter_targets(
    session: boto3.session.Session, endpoint_url: str | None, functions: list[dict[str, Any]]
) -> set[str]:
    """Queues named as dead-letter targets by functions, EventBridge rule targets (default bus) and
    EventBridge Scheduler schedules: what fails there lands in them, as in a queue's redrive DLQ."""
    arns: list[Any] = [(f.get("DeadLetterConfig") or {}).get("TargetArn") for f in functions]
    events = session.client("events", endpoint_url=endpoint_url)
    try:
        for page in _pages(events, "list_rules"):
            for rule in page.get("Rules", []):
                for targets in _pages(events, "list_targets_by_rule", Rule=rule["Name"]):
                    arns += [(t.get("DeadLetterConfig") or {}).get("Arn") for t in targets.get("Targets", [])]
    except (ClientError, BotoCoreError) as exc:
        log.info("inventory: EventBridge rules not listed (%s)", type(exc).__name__)
    scheduler = session.client("scheduler", endpoint_url=endpoint_url)
    try:
        for page in _pages(scheduler, "list_schedules"):
            for item in page.get("Schedules", []):
                group = item.get("GroupName", "default")
                schedule = scheduler.get_schedule(Name=item["Name"], GroupName=group)
                arns.append(((schedule.get("Target") or {}).get("DeadLetterConfig") or {}).get("Arn"))
    except (ClientError, BotoCoreError) as exc:
        log.info("inventory: schedules not listed (%s)", type(exc).__name__)
    return {name for arn in arns if (name := _sqs_queue_name(arn))}


def _has_weighted_alias(lam: Any, function_name: str) -> bool:
    """A canary: an alias that sends part of its traffic to another version (``RoutingConfig``)."""
    try:
        aliases = lam.list_aliases(FunctionName=function_name).get("Aliases", [])
    except (ClientError, BotoCoreError):
        return False  # a log group whose function is gone
    return any(a.get("RoutingConfig", {}).get("AdditionalVersionWeights") for a in aliases)
