"""Finding lifecycle across runs: which findings are new, seen again, or resolved (issue 7, point 5).

Pure: the run checks each batch of findings against its scope before the
audit store upserts it (first seen, last seen, re-opened), and passes the
open findings it did not see again through ``to_resolve``. The subtle
part is scope. A run may look at one system, one key range
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


def check_in_scope(findings: Iterable[Finding], scope: Scope) -> None:
    """A finding about a key the run did not judge is an engine bug: refuse to store it."""
    for finding in findings:
        if not scope.covers(finding.system, finding.key):
            where = f"{finding.system} {finding.key!r}"
            raise ValueError(f"finding {finding.fingerprint} ({where}) lies outside the run's scope")


def to_resolve(open_not_seen: Iterable[OpenFinding], scope: Scope) -> list[str]:
    """Fingerprints of open findings this run did not see again, among those it judged: resolved.

    ``open_not_seen`` are the system's open findings the run did not report (the audit store
    streams them in batches, so memory does not grow with the number of findings).
    """
    return [f.fingerprint for f in open_not_seen if scope.covers(f.system, f.key)]
