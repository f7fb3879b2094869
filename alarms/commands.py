"""``sagawatch alarms deploy | template | status``: the standard set as an operator uses it.

Each reads the live inventory of the running stack (``.sagawatch/stack.json``), or of the AWS
account the default credential chain reaches with ``--aws``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from alarms.app_template import TemplateError, current_block, generated_block, regenerate
from alarms.cfn import to_yaml
from alarms.deploy import deploy, ensure_topic
from alarms.described import current_state
from alarms.inventory import Inventory, read_inventory
from alarms.settings import AlarmSettings
from alarms.standard import AlarmSet, standard_set
from alarms.store import AlarmStore, StoredTransition
from sagawatch.aws import aws_session
from sagawatch.redact import redact
from sagawatch.settings import get_settings
from sagawatch.stack_info import StackInfo

AwsOption = Annotated[
    bool, typer.Option("--aws", help="Use the AWS account of the default credential chain.")
]


@dataclass(frozen=True)
class Target:
    session: Any
    endpoint: str | None
    region: str
    audit_url: str | None


def _target(use_aws: bool) -> Target:
    settings = get_settings()
    if use_aws:
        return Target(aws_session(settings.region), None, settings.region, settings.audit_database_url)
    info = StackInfo.read(settings.stack_file)
    if info is None:
        typer.echo(
            f"error: no stack is running (no live {settings.stack_file}); start `sagawatch up` or pass --aws",
            err=True,
        )
        raise typer.Exit(2)
    return Target(aws_session(info.region, info.aws_endpoint), info.aws_endpoint, info.region, info.audit_url)


def _settings() -> AlarmSettings:
    """The alarm settings, or one line per bad ``SAGAWATCH_ALARMS_*`` variable and exit 2."""
    try:
        return AlarmSettings()
    except ValidationError as exc:
        for item in exc.errors():
            name = "SAGAWATCH_ALARMS_" + "_".join(str(p) for p in item["loc"]).upper()
            typer.echo(f"error: {name}: {item['msg']}", err=True)
        raise typer.Exit(2) from None


def _client(target: Target, service: str) -> Any:
    return target.session.client(service, endpoint_url=target.endpoint)


def _alarm_set(target: Target, settings: AlarmSettings, *, create_topic: bool) -> AlarmSet:
    topic = settings.topic_arn
    if topic is None and target.endpoint is not None:
        sns = _client(target, "sns")
        topic = ensure_topic(sns, settings.topic_name) if create_topic else _local_topic_arn(target, settings)
    return standard_set(read_inventory(target.session, target.endpoint), settings, topic)


def _local_topic_arn(target: Target, settings: AlarmSettings) -> str:
    """The topic's ARN without creating it (``--dry-run`` changes nothing)."""
    return f"arn:aws:sns:{target.region}:123456789012:{settings.topic_name}"


def deploy_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the requests; put nothing.")] = False,
    use_aws: AwsOption = False,
) -> None:
    """Put the standard metric filters and alarms into CloudWatch (idempotent)."""
    settings = _settings()
    target = _target(use_aws)
    alarm_set = _alarm_set(target, settings, create_topic=not dry_run)
    if dry_run:
        typer.echo(json.dumps(alarm_set.as_requests(), indent=2))
        return
    result = deploy(alarm_set, _client(target, "logs"), _client(target, "cloudwatch"))
    typer.echo(f"put {len(result.metric_filters)} metric filters and {len(result.alarms)} alarms")
    for name, why in result.skipped.items():
        typer.echo(f"skipped metric filter {name}: {why}", err=True)
    if not any(a.AlarmActions for a in alarm_set.alarms):
        typer.echo("note: no actions (set SAGAWATCH_ALARMS_TOPIC_ARN to an SNS topic)", err=True)


def template_command(
    function: Annotated[
        list[str] | None,
        typer.Option("--function", help="A function name (repeatable); skips the inventory."),
    ] = None,
    dlq: Annotated[
        list[str] | None, typer.Option("--dlq", help="A dead-letter queue name (repeatable).")
    ] = None,
    api: Annotated[
        list[str] | None, typer.Option("--api", help="NAME:STAGE of a REST API (repeatable).")
    ] = None,
    topic_ref: Annotated[
        str | None,
        typer.Option("--topic-ref", help="Logical id of the template's AWS::SNS::Topic for the actions."),
    ] = None,
    from_template: Annotated[
        Path | None,
        typer.Option(
            "--from-template",
            help="A SAM template: the set for its own functions, DLQs, APIs and canaries (no stack needed).",
        ),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="With --from-template: replace the block in the file.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="With --from-template: exit 1 if the file's block is stale.")
    ] = False,
    use_aws: AwsOption = False,
) -> None:
    """Print the standard set as CloudFormation resources (YAML) for the template."""
    if from_template is not None:
        _from_template(from_template, write=write, check=check)
        return
    if write or check:
        typer.echo("error: --write and --check need --from-template PATH", err=True)
        raise typer.Exit(2)
    if topic_ref is not None and not topic_ref.isalnum():
        typer.echo(
            f"error: --topic-ref {topic_ref!r}: a logical id is alphanumeric, e.g. AlarmTopic", err=True
        )
        raise typer.Exit(2)
    settings = _settings()
    if function or dlq or api:
        apis = []
        for item in api or []:
            name, sep, stage = item.partition(":")
            if not sep or not name or not stage:
                typer.echo(
                    f"error: --api {item!r}: expected NAME:STAGE such as sagawatch-app-api:v1", err=True
                )
                raise typer.Exit(2)
            apis.append((name, stage))
        inventory = Inventory(
            tuple(sorted(set(function or []))), tuple(sorted(set(dlq or []))), tuple(sorted(apis))
        )
        alarm_set = standard_set(inventory, settings, settings.topic_arn)
    else:
        alarm_set = _alarm_set(_target(use_aws), settings, create_topic=False)
    typer.echo(to_yaml(alarm_set, topic_ref), nl=False)


def _from_template(path: Path, *, write: bool, check: bool) -> None:
    """Print, check or rewrite the generated block of a template (``alarms.app_template``)."""
    if not path.is_file():
        typer.echo(f"error: --from-template {str(path)!r}: no such file", err=True)
        raise typer.Exit(2)
    text = path.read_text(encoding="utf-8")
    settings = _settings()
    try:
        if write:
            updated = regenerate(text, settings)
            if updated != text:
                path.write_text(updated, encoding="utf-8")
            typer.echo(f"{path}: standard alarms {'regenerated' if updated != text else 'already current'}")
            return
        block = generated_block(text, settings)
        if check:
            if current_block(text) != block:
                typer.echo(
                    f"{path}: the standard alarms block is stale; run "
                    f"`sagawatch alarms template --from-template {path} --write`",
                    err=True,
                )
                raise typer.Exit(1)
            typer.echo(f"{path}: standard alarms block is current")
            return
    except TemplateError as exc:
        typer.echo(f"error: --from-template {str(path)!r}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(block, nl=False)


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    use_aws: AwsOption = False,
) -> None:
    """Each alarm's state and reason (CloudWatch) and its last change (the audit store)."""
    target = _target(use_aws)
    rows = _cloudwatch_rows(target)
    changes = _last_changes(target)
    for row in rows:
        change = changes.get(row["alarm"])
        row["last_change"] = (
            {
                "from": change.old_state,
                "to": change.new_state,
                "at": change.changed_at.isoformat(),
                "reason": change.reason,
            }
            if change
            else None
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no alarms")
    for row in rows:
        typer.echo(f"{row['state']:17} {row['alarm']}  (since {row['changed_at']})\n    {row['reason']}")
        if row["last_change"]:
            last = row["last_change"]
            typer.echo(f"    last change: {last['from'] or '-'} -> {last['to']} at {last['at']}")


def _last_changes(target: Target) -> dict[str, StoredTransition]:
    """The latest recorded transition per alarm; none (with a note) when the store cannot be read."""
    if not target.audit_url:
        return {}
    try:
        return AlarmStore(target.audit_url).last_transitions()
    except Exception as exc:  # no alarm tables yet, store down: the states still come from CloudWatch
        typer.echo(f"note: audit store not read ({redact(str(exc)).strip()})", err=True)
        return {}


def _cloudwatch_rows(target: Target) -> list[dict[str, Any]]:
    cloudwatch = _client(target, "cloudwatch")
    rows = []
    for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    ):
        for described in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
            rows.append(
                {
                    "alarm": described["AlarmName"],
                    "state": current_state(described).value,
                    "reason": described.get("StateReason", ""),
                    "changed_at": described["StateUpdatedTimestamp"].isoformat(),
                }
            )
    return sorted(rows, key=lambda r: str(r["alarm"]))


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_command)
    app.command("template")(template_command)
    app.command("status")(status_command)
