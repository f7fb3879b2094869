"""The standard set inside the app's template: generated from its own declarations, never stale."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from alarms.app_template import (
    BEGIN_MARKER,
    END_MARKER,
    TemplateError,
    current_block,
    generated_block,
    inventory_from_template,
    load_template,
    regenerate,
    without_block,
)
from alarms.cli import app
from alarms.settings import AlarmSettings
from alarms.standard import standard_set

ROOT = Path(__file__).resolve().parents[3]
APP_TEMPLATE = ROOT / "instrumented_app" / "template.yaml"

NEW_FUNCTION = """
  LateFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: sw-late
      Handler: instrumented_app.handlers.diagnostics.handler
"""


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlarmSettings]:
    """The defaults the committed block is generated with, whatever this shell exports."""
    for name in [n for n in os.environ if n.startswith("SAGAWATCH_ALARMS_")]:
        monkeypatch.delenv(name)
    yield AlarmSettings()


def with_new_function(text: str) -> str:
    """The template with one more function declared before the generated block (no log group)."""
    return text.replace(BEGIN_MARKER, NEW_FUNCTION.strip("\n") + "\n\n" + BEGIN_MARKER, 1)


def test_the_committed_alarm_block_is_what_the_standard_set_generates(settings: AlarmSettings) -> None:
    text = APP_TEMPLATE.read_text(encoding="utf-8")
    assert current_block(text) == generated_block(text, settings), (
        "instrumented_app/template.yaml's standard alarms are stale: run "
        "`sagawatch alarms template --from-template instrumented_app/template.yaml --write`"
    )


def test_the_template_declares_every_alarm_the_standard_set_has_for_its_resources(
    settings: AlarmSettings,
) -> None:
    template = load_template(APP_TEMPLATE.read_text(encoding="utf-8"))
    found = inventory_from_template(template)
    declared = {
        r["Properties"]["AlarmName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    expected = {a.AlarmName for a in standard_set(found.inventory, settings, None).alarms}
    assert declared == expected
    assert "sagawatch-errors-sw-customers" in declared
    assert "sagawatch-dlq-depth-sw-async-jobs-dlq" in declared
    assert "sagawatch-dlq-age-sw-async-jobs-dlq" in declared
    assert {"sagawatch-stuck-sagas", "sagawatch-drift-findings"} <= declared
    assert "sagawatch-canary-error-delta-sw-customer-read" in declared
    assert "sagawatch-api-5xx-sagawatch-app-api-v1" in declared
    # every action goes to the topic declared beside them
    topic = template["Resources"]["AlarmTopic"]
    assert (topic["Type"], topic["Properties"]["TopicName"]) == ("AWS::SNS::Topic", "sagawatch-alarms")
    alarm = template["Resources"]["AlarmSagawatchErrorsSwCustomers"]["Properties"]
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_the_inventory_read_from_the_template_matches_its_declarations() -> None:
    found = inventory_from_template(load_template(APP_TEMPLATE.read_text(encoding="utf-8")))
    inventory = found.inventory
    assert len(inventory.functions) >= 20 and "sw-diagnostics" in inventory.functions
    assert set(found.log_groups) == set(inventory.functions)  # each function's group is declared
    assert found.log_groups["sw-customers"] == "CustomersLogGroup"
    assert inventory.dead_letter_queues == tuple(sorted(inventory.dead_letter_queues))
    assert "sw-async-jobs-dlq" in inventory.dead_letter_queues
    assert "sw-async-jobs" not in inventory.dead_letter_queues  # a work queue, not a DLQ
    assert "sw-reconcile-schedule-dlq" in inventory.dead_letter_queues  # a schedule's DeadLetterConfig
    assert inventory.apis == (("sagawatch-app-api", "v1"),)
    assert inventory.canary_functions == ("sw-customer-read",)


def test_a_function_added_without_regenerating_makes_the_block_stale(settings: AlarmSettings) -> None:
    text = with_new_function(APP_TEMPLATE.read_text(encoding="utf-8"))
    assert current_block(text) != generated_block(text, settings)

    fixed = regenerate(text, settings)
    assert current_block(fixed) == generated_block(fixed, settings)
    resources = load_template(fixed)["Resources"]
    assert resources["AlarmSagawatchErrorsSwLate"]["Properties"]["MetricName"] == "Errors-sw-late"
    # its log group is not declared: the block declares it, and the filter waits for it
    metric_filter = resources["MetricFilterErrorsSwLate"]
    assert metric_filter["DependsOn"] == "LogGroupSwLate"
    assert resources["LogGroupSwLate"]["Properties"]["LogGroupName"] == "/aws/lambda/sw-late"
    assert regenerate(fixed, settings) == fixed  # the generated log group is not read back as declared


def test_a_template_without_the_block_gets_it_at_the_end_of_its_resources(settings: AlarmSettings) -> None:
    bare = without_block(APP_TEMPLATE.read_text(encoding="utf-8"))
    assert current_block(bare) is None
    written = regenerate(bare, settings)
    assert current_block(written) == generated_block(bare, settings)
    assert written.index(END_MARKER) < written.index("\nOutputs:")
    assert load_template(written)["Outputs"]["ApiUrl"]


def test_a_function_without_a_literal_name_is_refused_naming_the_field(settings: AlarmSettings) -> None:
    text = with_new_function(APP_TEMPLATE.read_text(encoding="utf-8")).replace(
        "      FunctionName: sw-late\n", ""
    )
    with pytest.raises(TemplateError, match=r"LateFunction\.Properties\.FunctionName"):
        generated_block(text, settings)


def test_a_lone_marker_is_refused() -> None:
    text = APP_TEMPLATE.read_text(encoding="utf-8").replace(END_MARKER + "\n", "")
    with pytest.raises(TemplateError, match="BEGIN before END"):
        current_block(text)


def run(*args: str) -> Result:
    """``sagawatch alarms template ...`` in process (the console script's app, its exit codes)."""
    return CliRunner().invoke(app, ["template", *args])


def test_cli_check_fails_on_a_stale_copy_and_write_regenerates_it_in_place(
    tmp_path: Path, settings: AlarmSettings
) -> None:
    copy = tmp_path / "template.yaml"
    copy.write_text(with_new_function(APP_TEMPLATE.read_text(encoding="utf-8")), encoding="utf-8")

    stale = run("--from-template", str(copy), "--check")
    assert stale.exit_code == 1
    assert "stale" in stale.stderr and "--write" in stale.stderr

    written = run("--from-template", str(copy), "--write")
    assert written.exit_code == 0, written.output
    assert "sagawatch-errors-sw-late" in copy.read_text(encoding="utf-8")
    assert run("--from-template", str(copy), "--check").exit_code == 0

    printed = run("--from-template", str(copy))
    assert printed.exit_code == 0
    assert printed.stdout == current_block(copy.read_text(encoding="utf-8"))


def test_cli_names_a_missing_template_and_write_without_a_template(settings: AlarmSettings) -> None:
    missing = run("--from-template", "no/such/template.yaml")
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    lone = run("--write")
    assert lone.exit_code == 2 and "--from-template" in lone.stderr
