"""Finding lifecycle: new, seen again, resolved, and nothing resolved outside what a run judged."""

from __future__ import annotations

import pytest

from reconciler.lifecycle import OpenFinding, Scope, update_lifecycle
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


def test_a_full_sweep_opens_keeps_and_resolves() -> None:
    gone, still, new = _finding("C1"), _finding("C2"), _finding("C3")
    update = update_lifecycle([_open(gone), _open(still)], [still, new], Scope(system="support"))
    assert update.opened == (new,)
    assert update.seen_again == (still.fingerprint,)
    assert update.resolved == (gone.fingerprint,)


def test_other_systems_ranges_unchanged_keys_and_deferred_keys_stay_open() -> None:
    elsewhere = _finding("C1", system="commerce")
    out_of_range = _finding("D1")
    unchanged = _finding("C2")
    deferred = _finding("C3")
    fixed = _finding("C4")
    scope = Scope(
        system="support", key_from="C", key_to="D", keys=frozenset({"C3", "C4"}), deferred=frozenset({"C3"})
    )
    update = update_lifecycle(
        [_open(f) for f in (elsewhere, out_of_range, unchanged, deferred, fixed)], [], scope
    )
    assert update.resolved == (fixed.fingerprint,)


def test_a_finding_outside_the_scope_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="lies outside the run's scope"):
        update_lifecycle([], [_finding("Z9")], Scope(system="support", key_to="D"))
