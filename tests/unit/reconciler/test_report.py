"""Reports: each format parses back, counts add up, and no raw PII gets through."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from reconciler.mapping import COMMERCE, SUPPORT
from reconciler.model import DeferReason, Deferred, DriftKind, Finding
from reconciler.report import CSV_COLUMNS, ReportFormat, render_report, write_report

from .builders import customer, mirror, run

EMAIL = "hanako.suzuki@example.jp"
PHONE_NATIONAL = "080-5555-0199"
PHONE_E164 = "+818055550199"
NAME = ("Suzuki", "Hanako")


def _drift_findings() -> list[Finding]:
    """Findings from the engine over data that holds real-looking PII."""
    row = customer(1, family_name=NAME[0], given_name=NAME[1], email=EMAIL, phone=PHONE_NATIONAL)
    support_copy = mirror(
        SUPPORT, row, 11, email="h.suzuki@example.jp", phone="+818055550198", name="Suzuki Hana"
    )
    commerce_copy = mirror(COMMERCE, row, 21, email=EMAIL.upper(), phone=None, first_name="Hanako|x")
    rows = [row, customer(2), customer(3)]
    outcomes = run(SUPPORT, rows, [support_copy, mirror(SUPPORT, customer(4), 44)])
    outcomes += run(
        COMMERCE, rows, [commerce_copy, mirror(COMMERCE, rows[1], 22), mirror(COMMERCE, rows[1], 23)]
    )
    found = [o for o in outcomes if isinstance(o, Finding)]
    assert {f.kind for f in found} == {
        DriftKind.FIELD_MISMATCH,
        DriftKind.MISSING_IN_SAAS,
        DriftKind.ORPHAN_IN_SAAS,
        DriftKind.DUPLICATE_IN_SAAS,
    }
    return found


DEFERRED = [Deferred(system="support", key="C000009", reason=DeferReason.IN_FLIGHT_SAGA)]


def test_json_parses_back_into_the_same_findings() -> None:
    findings = _drift_findings()
    document = json.loads(render_report(findings, "json", deferred=DEFERRED))
    assert [Finding.model_validate(_without_fingerprint(f)) for f in document["findings"]] == findings
    assert [f["fingerprint"] for f in document["findings"]] == [f.fingerprint for f in findings]
    assert document["summary"]["total"] == len(findings)
    assert document["summary"]["deferred"]["in_flight_saga"] == 1
    assert document["summary"]["by_system"]["commerce"]["duplicate_in_saas"] == 1


def _without_fingerprint(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "fingerprint"}


def test_json_of_nothing_is_still_a_document() -> None:
    assert json.loads(render_report([], ReportFormat.JSON)) == {
        "findings": [],
        "deferred": [],
        "summary": {
            "total": 0,
            "by_kind": {k.value: 0 for k in DriftKind},
            "by_system": {},
            "deferred": {"in_flight_saga": 0, "grace_window": 0},
        },
    }


def test_csv_parses_back_one_row_per_finding() -> None:
    findings = _drift_findings()
    rows = list(csv.DictReader(io.StringIO(render_report(findings, "csv"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["kind"], r["system"], r["key"], r["field"]) for r in rows] == [
        (f.kind.value, f.system, f.key, f.field or "") for f in findings
    ]
    duplicate = next(r for r in rows if r["kind"] == "duplicate_in_saas")
    assert duplicate["saas_ids"].split() == ["22", "23"]


def test_markdown_has_counts_per_kind_and_system_then_a_table() -> None:
    findings = _drift_findings()
    text = render_report(findings, "markdown", deferred=DEFERRED, title="INC-42 drift")
    lines = text.splitlines()
    assert lines[0] == "# INC-42 drift"
    assert f"**{len(findings)} findings** in 2 systems. 1 key deferred (in flight saga: 1)." in text
    commerce = next(line for line in lines if line.startswith("| commerce |"))
    cells = [c.strip() for c in commerce.strip("|").split("|")]
    expected = [sum(1 for f in findings if f.system == "commerce" and f.kind is k) for k in DriftKind]
    assert cells[1:] == [str(n) for n in expected] + [str(sum(expected))]
    table = [line for line in lines if line.startswith("| field_mismatch") or line.startswith("| missing")]
    assert len(table) == sum(
        1 for f in findings if f.kind in (DriftKind.FIELD_MISMATCH, DriftKind.MISSING_IN_SAAS)
    )
    # A pipe inside a value must not split the table row.
    assert all(row.count(" | ") == 8 for row in table)


def test_markdown_caps_the_table_but_not_the_counts() -> None:
    many = run(SUPPORT, [customer(n) for n in range(30)], [])
    text = render_report([f for f in many if isinstance(f, Finding)], "markdown", max_rows=10)
    assert "**30 findings** in 1 system." in text
    assert sum(1 for line in text.splitlines() if line.startswith("| missing_in_saas")) == 10
    assert "_Showing the first 10 of 30 findings" in text


def test_markdown_of_a_clean_run_says_so() -> None:
    assert "**No drift found.**" in render_report([], "markdown")


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_no_format_ever_contains_raw_pii(fmt: ReportFormat) -> None:
    text = render_report(_drift_findings(), fmt, deferred=DEFERRED)
    lowered = text.casefold()
    for raw in (
        EMAIL,
        "h.suzuki@example.jp",
        PHONE_NATIONAL,
        PHONE_E164,
        "+818055550198",
        "8055550199",
        *NAME,
    ):
        assert raw.casefold() not in lowered, raw


def test_an_unknown_format_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="format: 'yaml' is not one of json, csv, markdown"):
        write_report([], "yaml", io.StringIO())


def test_write_report_returns_the_counts_for_the_exit_code() -> None:
    findings = _drift_findings()
    summary = write_report(iter(findings), "csv", io.StringIO(), deferred=DEFERRED)
    assert summary.total == len(findings)
    assert summary.deferred[DeferReason.IN_FLIGHT_SAGA] == 1


def test_an_unlinked_orphan_shows_as_having_no_key() -> None:
    stray = Finding(kind=DriftKind.ORPHAN_IN_SAAS, system="support", key="", saas_ids=("5",))
    row = next(
        line for line in render_report([stray], "markdown").splitlines() if line.startswith("| orphan")
    )
    assert "| _(no key)_ |" in row
