"""The diff engine: each drift kind, deferral, key ranges, and the input contract."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest

from reconciler.compare import DiffPolicy
from reconciler.diff import SourceOrderError, diff_keys, diff_sorted
from reconciler.mapping import COMMERCE, MAPPINGS, MEMBERSHIP, SUPPORT, SystemMapping
from reconciler.model import DeferReason, Deferred, DiffStats, DriftKind, Finding, Outcome
from reconciler.sources.memory import InMemorySource

from .builders import NOW, SETTLED, aurora_records, customer, mirror, run, sorted_records

ALL = list(MAPPINGS.values())


def findings(outcomes: list[Outcome]) -> list[Finding]:
    return [o for o in outcomes if isinstance(o, Finding)]


@pytest.mark.parametrize("mapping", ALL, ids=lambda m: m.system)
def test_a_faithful_mirror_is_clean(mapping: SystemMapping) -> None:
    rows = [customer(n) for n in range(50)]
    assert run(mapping, rows, [mirror(mapping, r, n + 1) for n, r in enumerate(rows)]) == []


def test_saas_spelling_differences_are_not_drift() -> None:
    row = customer(1, email="Taro1@Example.com", phone="090-0000-0001")
    obj = mirror(SUPPORT, row, 7, email=" taro1@example.COM", phone="+81 90 0000 0001", name="Taro1  Yamada")
    obj["external_id"] = "c000001"
    assert run(SUPPORT, [row], [obj]) == []


@pytest.mark.parametrize("mapping", ALL, ids=lambda m: m.system)
def test_missing_in_saas(mapping: SystemMapping) -> None:
    rows = [customer(1), customer(2), customer(3)]
    objects = [mirror(mapping, rows[0], 1), mirror(mapping, rows[2], 3)]
    (finding,) = run(mapping, rows, objects)
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.system, finding.key) == (
        DriftKind.MISSING_IN_SAAS,
        mapping.system,
        "C000002",
    )


def test_orphan_in_saas_lists_the_saas_ids() -> None:
    rows = [customer(1)]
    objects = [mirror(COMMERCE, rows[0], 1), mirror(COMMERCE, customer(9), 99)]
    (finding,) = run(COMMERCE, rows, objects)
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.key, finding.saas_ids) == (DriftKind.ORPHAN_IN_SAAS, "C000009", ("99",))


def test_saas_records_without_a_link_key_are_orphans() -> None:
    stray = [
        {"id": i, "name": "Walk In", "email": "w@example.com", "updated_at": SETTLED.isoformat()}
        for i in (5, 6)
    ]
    (finding,) = run(SUPPORT, [], stray)
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.key, finding.saas_ids) == (DriftKind.ORPHAN_IN_SAAS, "", ("5", "6"))
    assert "no external_id" in finding.detail


def test_a_deleted_customer_must_be_gone_from_saas() -> None:
    gone, lingering = customer(1, status="DELETED"), customer(2, status="DELETED")
    (finding,) = run(SUPPORT, [gone, lingering], [mirror(SUPPORT, lingering, 2)])
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.key) == (DriftKind.ORPHAN_IN_SAAS, "C000002")
    assert "Aurora status is DELETED" in finding.detail


@pytest.mark.parametrize(
    ("mapping", "field", "override"),
    [
        (SUPPORT, "email", {"email": "someone.else@example.org"}),
        (COMMERCE, "phone", {"phone": "+819099998888"}),
        (COMMERCE, "name", {"first_name": "Jiro"}),
        (SUPPORT, "name", {"name": "Jiro Yamada"}),
        (MEMBERSHIP, "name", {"full_name": "Yamada Hanako"}),
    ],
)
def test_field_mismatch_names_the_field_and_masks_both_values(
    mapping: SystemMapping, field: str, override: dict[str, str]
) -> None:
    row = customer(1)
    (finding,) = run(mapping, [row], [mirror(mapping, row, 1, **override)])
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.field, finding.saas_ids) == (DriftKind.FIELD_MISMATCH, field, ("1",))
    assert finding.aurora_value and "*" in finding.aurora_value
    assert finding.saas_value and "*" in finding.saas_value
    for raw in (*override.values(), row["email"], row["phone"], row["given_name"], "+819000000001"):
        assert raw not in finding.model_dump_json()


def test_status_mismatch_is_shown_plainly() -> None:
    row = customer(1)
    (finding,) = run(MEMBERSHIP, [row], [mirror(MEMBERSHIP, row, 1, status="suspended")])
    assert isinstance(finding, Finding)
    assert (finding.field, finding.aurora_value, finding.saas_value) == ("status", "ACTIVE", "SUSPENDED")


def test_a_field_the_saas_record_does_not_carry_is_not_compared() -> None:
    row = customer(1)
    obj = mirror(COMMERCE, row, 1)
    del obj["phone"]
    assert run(COMMERCE, [row], [obj]) == []


def test_a_cleared_value_is_a_mismatch() -> None:
    row = customer(1)
    (finding,) = run(COMMERCE, [row], [mirror(COMMERCE, row, 1, phone=None)])
    assert isinstance(finding, Finding)
    assert (finding.field, finding.saas_value) == ("phone", None)


def test_duplicate_in_saas() -> None:
    row = customer(1)
    objects = [mirror(SUPPORT, row, 1), mirror(SUPPORT, row, 2, email="other@example.com")]
    (finding,) = run(SUPPORT, [row], objects)
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.saas_ids) == (DriftKind.DUPLICATE_IN_SAAS, ("1", "2"))


def test_many_duplicates_are_counted_but_ids_are_capped() -> None:
    row = customer(1)
    objects = [mirror(SUPPORT, row, i) for i in range(200)]
    (finding,) = run(SUPPORT, [row], objects, policy=DiffPolicy(now=NOW, max_ids=5))
    assert isinstance(finding, Finding)
    assert len(finding.saas_ids) == 5
    assert finding.detail.startswith("200 support records")


def test_stale_when_saas_is_older_beyond_the_tolerance() -> None:
    row = customer(1)
    lagging = mirror(COMMERCE, row, 1, updated_at=(SETTLED - timedelta(hours=3)).isoformat())
    (finding,) = run(COMMERCE, [row], [lagging])
    assert isinstance(finding, Finding)
    assert (finding.kind, finding.field) == (DriftKind.STALE, "updated_at")
    assert "3h before Aurora" in finding.detail


def test_not_stale_within_the_tolerance() -> None:
    row = customer(1)
    close = mirror(COMMERCE, row, 1, updated_at=(SETTLED - timedelta(minutes=10)).isoformat())
    assert (
        run(COMMERCE, [row], [close], policy=DiffPolicy(now=NOW, stale_tolerance=timedelta(minutes=15))) == []
    )


def test_stale_with_a_mismatch_reports_the_mismatch_once() -> None:
    row = customer(1)
    obj = mirror(
        SUPPORT, row, 1, email="old@example.com", updated_at=(SETTLED - timedelta(days=1)).isoformat()
    )
    (finding,) = run(SUPPORT, [row], [obj])
    assert isinstance(finding, Finding)
    assert finding.kind is DriftKind.FIELD_MISMATCH
    assert "1d older than Aurora" in finding.detail


def test_keys_held_by_an_in_flight_saga_are_deferred_not_reported() -> None:
    rows = [customer(1), customer(2)]
    outcomes = run(SUPPORT, rows, [], policy=DiffPolicy(now=NOW, in_flight=frozenset({"C000001"})))
    assert outcomes[0] == Deferred(system="support", key="C000001", reason=DeferReason.IN_FLIGHT_SAGA)
    assert isinstance(outcomes[1], Finding) and outcomes[1].key == "C000002"


def test_recent_changes_are_deferred_until_the_grace_window_passes() -> None:
    policy = DiffPolicy(now=NOW, grace=timedelta(minutes=5))
    just_now = customer(1, updated_at=NOW - timedelta(minutes=4))
    a_while_ago = customer(2, updated_at=NOW - timedelta(minutes=6))
    recent_saas_edit = customer(3)
    objects = [mirror(SUPPORT, recent_saas_edit, 3, email="x@example.com", updated_at=NOW.isoformat())]
    outcomes = run(SUPPORT, [just_now, a_while_ago, recent_saas_edit], objects, policy=policy)
    assert [(o.key, type(o).__name__) for o in outcomes] == [
        ("C000001", "Deferred"),
        ("C000002", "Finding"),
        ("C000003", "Deferred"),
    ]
    assert all(o.reason is DeferReason.GRACE_WINDOW for o in outcomes if isinstance(o, Deferred))


def _drifty() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [customer(n) for n in range(100)]
    objects = [
        mirror(SUPPORT, r, n, email="wrong@example.com" if n % 7 == 0 else r["email"])
        for n, r in enumerate(rows)
    ]
    del objects[50]
    objects.append(mirror(SUPPORT, customer(500), 500))
    return rows, objects


def test_a_key_range_sees_only_its_keys() -> None:
    rows, objects = _drifty()
    outcomes = run(SUPPORT, rows, objects, key_from="C000020", key_to="C000060")
    assert outcomes
    assert all("C000020" <= o.key < "C000060" for o in outcomes)
    assert {o.key for o in outcomes} == {
        o.key for o in run(SUPPORT, rows, objects) if "C000020" <= o.key < "C000060"
    }


def test_ranges_that_partition_the_keys_add_up_to_the_full_sweep() -> None:
    rows, objects = _drifty()
    bounds: list[str | None] = [None, "C000013", "C000050", "C000051", "C000099", None]
    parts = [o for lo, hi in pairwise(bounds) for o in run(SUPPORT, rows, objects, key_from=lo, key_to=hi)]
    assert parts == run(SUPPORT, rows, objects)


def test_incremental_over_keys_matches_the_sweep_for_those_keys() -> None:
    rows, objects = _drifty()
    aurora = InMemorySource("aurora", aurora_records(rows))
    saas = InMemorySource("support", sorted_records(SUPPORT, objects))
    keys = ["C000007", "c000050", "C000500", "C000001", "C009999"]
    policy = DiffPolicy(now=NOW)
    incremental = list(
        diff_keys(SUPPORT, policy, [k.upper() for k in keys], aurora.get_many, saas.get_many, batch_size=2)
    )
    wanted = {k.upper() for k in keys}
    assert incremental == [o for o in run(SUPPORT, rows, objects) if o.key in wanted]
    assert [o.key for o in incremental] == ["C000007", "C000050", "C000500"]


def test_stats_count_rows_keys_and_outcomes() -> None:
    rows, objects = _drifty()
    stats = DiffStats()
    outcomes = run(SUPPORT, rows, objects, stats=stats)
    assert (stats.aurora_rows, stats.saas_rows, stats.keys) == (100, 100, 101)
    assert sum(stats.findings.values()) == len(outcomes)
    assert stats.findings[DriftKind.MISSING_IN_SAAS] == 1
    assert stats.findings[DriftKind.ORPHAN_IN_SAAS] == 1
    assert stats.findings[DriftKind.FIELD_MISMATCH] == 15


def test_unsorted_input_is_refused_with_the_offending_keys() -> None:
    rows = aurora_records([customer(1), customer(2)])
    with pytest.raises(SourceOrderError, match="aurora: key 'C000001' after 'C000002'"):
        list(diff_sorted(SUPPORT, DiffPolicy(now=NOW), reversed(rows), []))
    with pytest.raises(SourceOrderError, match="without repeats"):
        list(diff_sorted(SUPPORT, DiffPolicy(now=NOW), [rows[0], rows[0]], []))


def test_records_of_another_system_are_refused() -> None:
    commerce = sorted_records(COMMERCE, [mirror(COMMERCE, customer(1), 1)])
    with pytest.raises(SourceOrderError, match="expected support records, got one from 'commerce'"):
        list(diff_sorted(SUPPORT, DiffPolicy(now=NOW), [], commerce))


def test_policy_refuses_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        DiffPolicy(now=NOW.replace(tzinfo=None))


def test_a_missing_name_part_is_not_read_as_the_word_none() -> None:
    row = customer(1, family_name=None)
    (finding,) = run(SUPPORT, [row], [mirror(SUPPORT, customer(1), 1, name=f"None {row['given_name']}")])
    assert isinstance(finding, Finding)
    assert finding.field == "name"
