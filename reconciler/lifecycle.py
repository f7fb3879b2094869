"""Finding lifecycle across runs: which findings are new, seen again, or resolved (issue 7, point 5).

Pure: the audit store passes in what it holds open and stores what comes
out. The subtle part is scope. A run may look at one system, one key range
(a Distributed Map item) or only the changed keys (incremental), and it
does not judge deferred keys; an open finding outside what the run actually
judged must stay open, or a partial run would "resolve" drift it never
looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.model import Finding


@dataclass(frozen=True, slots=True)
class OpenFinding:
    """What the audit store needs of a finding it holds open."""

    fingerprint: str
    system: str
    key: str


@dataclass(frozen=True, slots=True)
class Scope:
    """The keys one run judged: a system, a key range, optionally only some keys, less the deferred ones."""

    system: str
    key_from: str | None = None
    key_to: str | None = None
    keys: frozenset[str] | None = None  # None: every key in the range (a full sweep)
    deferred: frozenset[str] = field(default_factory=frozenset)

    def covers(self, system: str, key: str) -> bool:
        return (
            system == self.system
            and (self.key_from is None or key >= self.key_from)
            and (self.key_to is None or key < self.key_to)
            and (self.keys is None or key in self.keys)
            and key not in self.deferred
        )


@dataclass(frozen=True, slots=True)
class LifecycleUpdate:
    opened: tuple[Finding, ...]  # not open before: record first_seen
    seen_again: tuple[str, ...]  # fingerprints still open: bump last_seen
    resolved: tuple[str, ...]  # fingerprints open before, judged this run, and gone


def update_lifecycle(
    open_before: Iterable[OpenFinding], current: Iterable[Finding], scope: Scope
) -> LifecycleUpdate:
    """Compare this run's findings with the open ones, within ``scope`` only."""
    before = {f.fingerprint: f for f in open_before}
    opened: list[Finding] = []
    seen: set[str] = set()
    for finding in current:
        if not scope.covers(finding.system, finding.key):
            where = f"{finding.system} {finding.key!r}"
            raise ValueError(f"finding {finding.fingerprint} ({where}) lies outside the run's scope")
        if finding.fingerprint in seen:
            continue
        seen.add(finding.fingerprint)
        if finding.fingerprint not in before:
            opened.append(finding)
    seen_again = tuple(sorted(fp for fp in seen if fp in before))
    resolved = tuple(
        sorted(fp for fp, f in before.items() if fp not in seen and scope.covers(f.system, f.key))
    )
    return LifecycleUpdate(opened=tuple(opened), seen_again=seen_again, resolved=resolved)
