"""Findings as JSON, CSV or Markdown (``sagawatch reconcile --format json|csv|markdown``).

Reports stream: JSON and CSV write each finding as it arrives, so a sweep
with a million findings never holds them all. Markdown, meant to be pasted
into an incident ticket, puts the summary first, so it keeps the counts of
every finding but only the first ``max_rows`` table rows.

Values are written as findings hold them, already masked where PII
(``reconciler.masking``); nothing here sees a raw value.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TextIO

from reconciler.model import DeferReason, Deferred, DriftKind, Finding


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


CSV_COLUMNS: tuple[str, ...] = (
    "kind",
    "system",
    "key",
    "field",
    "aurora_value",
    "saas_value",
    "saas_ids",
    "detail",
    "fingerprint",
)


@dataclass(slots=True)
class ReportSummary:
    """Counts over everything written (not just the rows a Markdown table shows)."""

    by_system_kind: Counter[tuple[str, DriftKind]] = field(default_factory=Counter)
    deferred: Counter[DeferReason] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_system_kind.values())

    def by_kind(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, kind), n in self.by_system_kind.items():
            counts[kind.value] += n
        return {kind.value: counts[kind.value] for kind in DriftKind}

    def by_system(self) -> dict[str, dict[str, int]]:
        systems = sorted({system for system, _ in self.by_system_kind})
        return {s: {k.value: self.by_system_kind[(s, k)] for k in DriftKind} for s in systems}

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_kind": self.by_kind(),
            "by_system": self.by_system(),
            "deferred": {reason.value: self.deferred[reason] for reason in DeferReason},
        }


def write_report(
    findings: Iterable[Finding],
    fmt: ReportFormat | str,
    out: TextIO,
    *,
    deferred: Iterable[Deferred] = (),
    title: str = "Reconciliation drift",
    max_rows: int = 200,
) -> ReportSummary:
    """Write ``findings`` to ``out`` in ``fmt``; returns the counts (for the exit code and run record)."""
    try:
        chosen = ReportFormat(fmt)
    except ValueError:
        known = ", ".join(f.value for f in ReportFormat)
        raise ValueError(f"format: {fmt!r} is not one of {known}") from None
    summary = ReportSummary()
    if chosen is ReportFormat.JSON:
        _write_json(findings, deferred, out, summary)
    elif chosen is ReportFormat.CSV:
        _write_csv(findings, out, summary)
        _count_deferred(deferred, summary)
    else:
        _write_markdown(findings, deferred, out, summary, title, max_rows)
    return summary


def render_report(findings: Iterable[Finding], fmt: ReportFormat | str, **options: Any) -> str:
    """``write_report`` into a string."""
    buffer = io.StringIO()
    write_report(findings, fmt, buffer, **options)
    return buffer.getvalue()


def _count(finding: Finding, summary: ReportSummary) -> None:
    summary.by_system_kind[(finding.system, finding.kind)] += 1


def _count_deferred(deferred: Iterable[Deferred], summary: ReportSummary) -> None:
    for item in deferred:
        summary.deferred[item.reason] += 1


def _write_json(
    findings: Iterable[Finding], deferred: Iterable[Deferred], out: TextIO, summary: ReportSummary
) -> None:
    # One JSON document, written as it streams; the summary comes last because only then is it known.
    out.write('{"findings": [')
    for i, finding in enumerate(findings):
        _count(finding, summary)
        out.write(("," if i else "") + "\n  " + finding.model_dump_json())
    out.write('\n], "deferred": [')
    for i, item in enumerate(deferred):
        summary.deferred[item.reason] += 1
        out.write(("," if i else "") + "\n  " + item.model_dump_json())
    out.write('\n], "summary": ' + json.dumps(summary.as_dict()) + "}\n")


def _csv_row(finding: Finding) -> dict[str, str]:
    data = finding.model_dump(mode="json")
    data["saas_ids"] = " ".join(finding.saas_ids)
    return {column: "" if data[column] is None else str(data[column]) for column in CSV_COLUMNS}


def _write_csv(findings: Iterable[Finding], out: TextIO, summary: ReportSummary) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for finding in findings:
        _count(finding, summary)
        writer.writerow(_csv_row(finding))


def _write_markdown(
    findings: Iterable[Finding],
    deferred: Iterable[Deferred],
    out: TextIO,
    summary: ReportSummary,
    title: str,
    max_rows: int,
) -> None:
    rows: list[Finding] = []
    for finding in findings:
        _count(finding, summary)
        if len(rows) < max_rows:
            rows.append(finding)
    _count_deferred(deferred, summary)
    out.write(f"# {_text(title)}\n\n")
    out.write(_headline(summary) + "\n\n")
    if summary.total:
        out.write(_summary_table(summary) + "\n\n")
        out.write("## Findings\n\n")
        out.write("| kind | system | key | field | Aurora | SaaS | SaaS ids | detail | fingerprint |\n")
        out.write("|---|---|---|---|---|---|---|---|---|\n")
        for f in rows:
            cells = (
                f.kind.value,
                f.system,
                _code(f.key) if f.key else "_(no key)_",
                _text(f.field or ""),
                _code(f.aurora_value),
                _code(f.saas_value),
                _code(" ".join(f.saas_ids) or None),
                _text(f.detail),
                _code(f.fingerprint),
            )
            out.write("| " + " | ".join(cells) + " |\n")
        if summary.total > len(rows):
            shown = f"the first {len(rows)} of {summary.total} findings"
            out.write(f"\n_Showing {shown}; use `--format csv` for all._\n")


def _headline(summary: ReportSummary) -> str:
    systems = len(summary.by_system())
    head = (
        f"**{summary.total} finding{'s' if summary.total != 1 else ''}** in {systems} "
        f"system{'s' if systems != 1 else ''}."
        if summary.total
        else "**No drift found.**"
    )
    waiting = sum(summary.deferred.values())
    if waiting:
        reasons = ", ".join(
            f"{r.value.replace('_', ' ')}: {n}" for r, n in sorted(summary.deferred.items()) if n
        )
        head += f" {waiting} key{'s' if waiting != 1 else ''} deferred ({reasons})."
    return head


def _summary_table(summary: ReportSummary) -> str:
    kinds = [k.value for k in DriftKind]
    lines = [
        "| system | " + " | ".join(kinds) + " | total |",
        "|---|" + "---:|" * (len(kinds) + 1),
    ]
    for system, counts in summary.by_system().items():
        lines.append(
            f"| {_text(system)} | "
            + " | ".join(str(counts[k]) for k in kinds)
            + f" | {sum(counts.values())} |"
        )
    totals = summary.by_kind()
    lines.append("| **total** | " + " | ".join(str(totals[k]) for k in kinds) + f" | **{summary.total}** |")
    return "\n".join(lines)


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _text(value: str) -> str:
    """Plain table text: Markdown's special characters escaped, one line."""
    return " ".join(value.split()).translate(_MARKDOWN_SPECIAL)


def _code(value: str | None) -> str:
    """A value as an inline code span (masks are full of ``*``); empty for ``None``."""
    if value is None:
        return ""
    flat = " ".join(value.split()).replace("|", "\\|")
    fence = "``" if "`" in flat else "`"
    return f"{fence} {flat} {fence}" if fence == "``" else f"`{flat}`"
