"""Finding lifecycle: new, seen again, resolved, and nothing resolved outside what a run judged."""

from __future__ import annotations

import pytest

from reconciler.lifecycle import OpenFinding, Scope, check_in_scope, to_resolve
from reconciler.model import DriftKind, Finding


def _finding(
    key: str, kind: DriftKind = DriftKind.MISSING_IN_SAAS, system: str = "support", **kw: str
) -> Finding:
    return Finding(kind=kind, system=system, key=key, **kw)


def _open(f: Finding) -> OpenFinding:
    return OpenFinding(fingerprint=f.fingerprint, system=f.system, key=f.key)


def test_fingerprint_ignores_values_but_not_kind_field_system_or_key() -> None:
    a = _finding("C1", DriftKind.FIELD_MISMATCH, field="email", saas_value="x***@***.com")
    assert (
        a.fingerprint
        == _finding("C1", DriftKind.FIELD_MISMATCH, field="email", saas_value="y***@***.org").fingerprint
    )
    others = [
        _finding("C1", DriftKind.FIELD_MISMATCH, field="phone"),
        _finding("C2", DriftKind.FIELD_MISMATCH, field="email"),
        _finding("C1", DriftKind.FIELD_MISMATCH, system="commerce", field="email"),
        _finding("C1", DriftKind.STALE, field="email"),
    ]
    assert len({a.fingerprint, *(o.fingerprint for o in others)}) == 5


def test_a_full_sweep_resolves_every_open_finding_it_did_not_see_again() -> None:
    gone, other = _finding("C1"), _finding("C9", DriftKind.ORPHAN_IN_SAAS)
    assert to_resolve([_open(gone), _open(other)], Scope(system="support")) == [
        gone.fingerprint,
        other.fingerprint,
    ]


def test_other_systems_ranges_unchanged_keys_and_deferred_keys_stay_open() -> None:
    elsewhere = _finding("C1", system="commerce")
    out_of_range = _finding("D1")
    unchanged = _finding("C2")
    deferred = _finding("C3")
    fixed = _finding("C4")
    scope = Scope(
        system="support", key_from="C", key_to="D", keys=frozenset({"C3", "C4"}), deferred=frozenset({"C3"})
    )
    resolved = to_resolve([_open(f) for f in (elsewhere, out_of_range, unchanged, deferred, fixed)], scope)
    assert resolved == [fixed.fingerprint]


def test_a_finding_outside_the_scope_is_a_caller_error() -> None:
    check_in_scope([_finding("C1")], Scope(system="support", key_to="D"))
    with pytest.raises(ValueError, match="lies outside the run's scope"):
        check_in_scope([_finding("C1"), _finding("Z9")], Scope(system="support", key_to="D"))
