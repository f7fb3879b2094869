"""The repair plan: what each finding kind becomes, idempotency keys, orphans only on request."""

from __future__ import annotations

from reconciler.model import DriftKind, Finding
from reconciler.repair import Action, plan_repairs


def _f(kind: DriftKind, key: str = "C1", ids: tuple[str, ...] = ("7",), field: str | None = None) -> Finding:
    return Finding(kind=kind, system="commerce", key=key, field=field, saas_ids=ids)


def test_each_kind_has_its_action_and_deletes_come_first() -> None:
    findings = [
        _f(DriftKind.MISSING_IN_SAAS, "C1", ()),
        _f(DriftKind.FIELD_MISMATCH, "C2", ("21",), "email"),
        _f(DriftKind.STALE, "C3", ("31",), "updated_at"),
        _f(DriftKind.DUPLICATE_IN_SAAS, "C4", ("41", "42", "43")),
        _f(DriftKind.ORPHAN_IN_SAAS, "X5", ("51",)),
    ]
    plan = plan_repairs(findings, "run1", delete_orphans=True)
    assert [(a.action, a.key, a.saas_id) for a in plan] == [
        (Action.DELETE, "C4", "42"),
        (Action.DELETE, "C4", "43"),
        (Action.DELETE, "X5", "51"),
        (Action.UPDATE, "C2", "21"),
        (Action.UPDATE, "C3", "31"),
        (Action.UPDATE, "C4", "41"),
        (Action.CREATE, "C1", None),
    ]
    dup = findings[3].fingerprint
    assert sorted(a.idempotency_key for a in plan if a.key == "C4") == [
        f"reconcile-run1-{dup}",
        f"reconcile-run1-{dup}-1",
        f"reconcile-run1-{dup}-2",
    ]


def test_orphans_and_extra_copies_are_only_flagged_by_default() -> None:
    plan = plan_repairs(
        [_f(DriftKind.ORPHAN_IN_SAAS, "X1", ("9",)), _f(DriftKind.DUPLICATE_IN_SAAS, "C2", ("1", "2"))],
        "r",
        delete_orphans=False,
    )
    assert [(a.action, a.saas_id) for a in plan] == [
        (Action.UPDATE, "1"),
        (Action.FLAG, "9"),
        (Action.FLAG, "2"),
    ]
    assert "--delete-orphans" in plan[1].describe()


def test_same_finding_in_another_run_gets_another_key() -> None:
    finding = _f(DriftKind.STALE)
    (a,) = plan_repairs([finding], "r1", delete_orphans=False)
    (b,) = plan_repairs([finding], "r2", delete_orphans=False)
    assert a.idempotency_key != b.idempotency_key
