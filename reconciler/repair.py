"""Repairs: a plan per finding (pure), and its execution through the SaaS writers.

Aurora is the source of truth, so a repair re-syncs the SaaS copy from the
Aurora row (``SystemMapping.project``):

* ``missing_in_saas`` -> create the record;
* ``field_mismatch`` / ``stale`` -> overwrite the mapped fields of the record;
* ``duplicate_in_saas`` -> overwrite the first record; the others are extra
  copies, handled like orphans;
* ``orphan_in_saas`` (and extra copies) -> flagged only, deleted when the
  operator passes ``--delete-orphans``.

Each action has an idempotency key ``reconcile-<run>-<fingerprint>`` (with
``-<n>`` for the second and later actions of one finding), so an action
retried after a lost answer is applied once. Deletes run first, then
updates, then creates: a SaaS with unique e-mails would refuse a create
while an extra copy still holds the address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger

from reconciler.mapping import mapping_for
from reconciler.model import DriftKind, Finding
from reconciler.sources.base import SourceError
from reconciler.sources.writer import SaasWriter, WriteContext
from sagawatch.contracts.correlation import mint_correlation_id


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    FLAG = "flag"


_ORDER = {Action.DELETE: 0, Action.UPDATE: 1, Action.CREATE: 2, Action.FLAG: 3}


@dataclass(frozen=True, slots=True)
class RepairAction:
    """One step of a repair plan; holds no field values (those are read from Aurora when applied)."""

    fingerprint: str
    kind: DriftKind
    system: str
    key: str
    action: Action
    saas_id: str | None
    idempotency_key: str
    note: str

    def describe(self) -> str:
        target = f" {self.saas_id}" if self.saas_id else ""
        return f"{self.action.value} {self.system}{target} (key {self.key or '(no key)'}): {self.note}"


@dataclass(frozen=True, slots=True)
class RepairOutcome:
    action: RepairAction
    status: str  # applied | failed | flagged
    correlation_id: str | None = None
    error: str | None = None


def plan_repairs(findings: Iterable[Finding], run_id: str, *, delete_orphans: bool) -> list[RepairAction]:
    """The actions that would bring each SaaS back in line with Aurora, in execution order."""
    actions: list[RepairAction] = []
    for finding in findings:
        steps = _steps(finding, delete_orphans)
        for n, (action, saas_id, note) in enumerate(steps):
            key = f"reconcile-{run_id}-{finding.fingerprint}" + (f"-{n}" if n else "")
            actions.append(
                RepairAction(
                    fingerprint=finding.fingerprint,
                    kind=finding.kind,
                    system=finding.system,
                    key=finding.key,
                    action=action,
                    saas_id=saas_id,
                    idempotency_key=key,
                    note=note,
                )
            )
    actions.sort(key=lambda a: _ORDER[a.action])
    return actions


def _steps(finding: Finding, delete_orphans: bool) -> list[tuple[Action, str | None, str]]:
    ids = list(finding.saas_ids)
    extra = Action.DELETE if delete_orphans else Action.FLAG
    extra_note = "delete (--delete-orphans)" if delete_orphans else "left in place; --delete-orphans deletes"
    if finding.kind is DriftKind.MISSING_IN_SAAS:
        return [(Action.CREATE, None, "create from the Aurora row")]
    if finding.kind in (DriftKind.FIELD_MISMATCH, DriftKind.STALE):
        what = f"field {finding.field}" if finding.kind is DriftKind.FIELD_MISMATCH else "stale record"
        return [(Action.UPDATE, ids[0] if ids else None, f"re-sync from Aurora ({what})")]
    if finding.kind is DriftKind.DUPLICATE_IN_SAAS:
        first: list[tuple[Action, str | None, str]] = [(Action.UPDATE, ids[0], "keep: re-sync from Aurora")]
        return first + [(extra, saas_id, f"extra copy, {extra_note}") for saas_id in ids[1:]]
    return [(extra, saas_id, f"orphan, {extra_note}") for saas_id in ids] or [
        (Action.FLAG, None, "orphan without a readable id")
    ]


def apply_repairs(
    actions: Iterable[RepairAction],
    aurora_rows: Mapping[str, Mapping[str, Any]],
    writers: Callable[[str], SaasWriter],
    logger: Logger,
) -> list[RepairOutcome]:
    """Run each action once (the writers retry); one failure does not stop the others."""
    outcomes: list[RepairOutcome] = []
    for action in actions:
        if action.action is Action.FLAG or (action.action is not Action.CREATE and action.saas_id is None):
            outcomes.append(RepairOutcome(action, "flagged"))
            logger.info("repair flagged", extra=_log_fields(action, None))
            continue
        correlation_id = mint_correlation_id()
        ctx = WriteContext(idempotency_key=action.idempotency_key, correlation_id=correlation_id)
        try:
            _execute(action, aurora_rows, writers(action.system), ctx)
        except (SourceError, LookupError) as exc:
            outcomes.append(RepairOutcome(action, "failed", correlation_id, str(exc)))
            logger.error("repair failed", extra={**_log_fields(action, correlation_id), "error": str(exc)})
            continue
        outcomes.append(RepairOutcome(action, "applied", correlation_id))
        logger.info("repair applied", extra=_log_fields(action, correlation_id))
    return outcomes


def _execute(
    action: RepairAction, rows: Mapping[str, Mapping[str, Any]], writer: SaasWriter, ctx: WriteContext
) -> None:
    if action.action is Action.DELETE:
        assert action.saas_id is not None
        writer.delete(action.saas_id, ctx)
        return
    row = rows.get(action.key)
    if row is None:
        raise LookupError(f"{action.system} {action.key}: the Aurora row is gone; nothing to re-sync from")
    fields = mapping_for(action.system).project(row)
    if action.action is Action.CREATE:
        writer.create(fields, ctx)
    else:
        assert action.saas_id is not None
        writer.update(action.saas_id, fields, ctx)


def _log_fields(action: RepairAction, correlation_id: str | None) -> dict[str, Any]:
    return {
        "correlation_id": correlation_id,
        "repair_action": action.action.value,
        "system": action.system,
        "cust_no": action.key,
        "saas_id": action.saas_id,
        "fingerprint": action.fingerprint,
        "idempotency_key": action.idempotency_key,
    }
