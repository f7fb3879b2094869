"""The judgement for one key: Aurora's row (or none) against the SaaS records that carry the key.

Both the full sweep (``diff.diff_sorted``) and the incremental run
(``diff.diff_keys``) call ``KeyComparer.compare`` and nothing else decides
drift, which is why the two modes agree on the same data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

import phonenumbers

from reconciler.mapping import AURORA_STATUS_COLUMN, FieldRule, SystemMapping
from reconciler.masking import mask
from reconciler.model import DeferReason, Deferred, DriftKind, Finding, Outcome, Record
from reconciler.normalise import FieldKind, display, equal, normalise, normalise_code

_CLEAN: tuple[Outcome, ...] = ()


@dataclass(frozen=True, slots=True)
class DiffPolicy:
    """What counts as settled: the clock, the keys sagas still hold, and two tolerances.

    ``in_flight`` holds canonical keys touched by a non-terminal saga (a set,
    or any container the caller builds from the saga table). A key whose
    Aurora row or SaaS record changed at or after ``now - grace`` is
    deferred too: a saga may have finished a step the others have not seen yet.
    """

    now: datetime
    in_flight: Container[str] = field(default_factory=frozenset)
    grace: timedelta = timedelta(minutes=5)
    stale_tolerance: timedelta = timedelta(minutes=15)
    max_ids: int = 20

    def __post_init__(self) -> None:
        if self.now.utcoffset() is None:
            raise ValueError(f"now must be timezone-aware, got {self.now!r}")
        if self.grace < timedelta(0) or self.stale_tolerance < timedelta(0):
            raise ValueError("grace and stale_tolerance must not be negative")
        if self.max_ids < 1:
            raise ValueError(f"max_ids must be at least 1, got {self.max_ids}")


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    """A ``FieldRule`` with its column lookups prepared once, for the per-row hot path."""

    rule: FieldRule
    aurora_values: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    saas_values: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    joined_name: bool  # a (family, given) pair against one full-name field
    phone_prefixes: PhonePrefixes | None = None  # for the national-vs-E.164 shortcut of a phone field
    ascii_fold: Callable[[str], str] | None = None  # for a code or e-mail written in another case

    @classmethod
    def of(cls, rule: FieldRule, default_region: str) -> _CompiledRule:
        return cls(
            rule=rule,
            aurora_values=_getter(rule.aurora),
            saas_values=_getter(rule.saas),
            joined_name=rule.kind is FieldKind.PERSON_NAME and len(rule.saas) == 1,
            phone_prefixes=_phone_prefixes(default_region) if rule.kind is FieldKind.PHONE else None,
            ascii_fold=_ASCII_FOLDS.get(rule.kind),
        )

    def quick_equal(self, a_raw: tuple[Any, ...], s_raw: tuple[Any, ...]) -> bool:
        """True only when equality is certain without normalising (False means "look closer")."""
        if self.phone_prefixes is not None:
            return _same_phone(a_raw, s_raw, self.phone_prefixes)
        if self.ascii_fold is not None:
            return _same_folded(a_raw, s_raw, self.ascii_fold)
        if not self.joined_name:
            return False
        family, given = a_raw
        (full,) = s_raw
        if not (isinstance(family, str) and isinstance(given, str) and isinstance(full, str)):
            return False
        return full == f"{family} {given}" or full == f"{given} {family}"


@dataclass(frozen=True, slots=True)
class PhonePrefixes:
    """A region's national trunk prefix ("0" in Japan), "+<country code>" and possible national lengths."""

    trunk: str
    country: str
    lengths: frozenset[int]
    international: re.Pattern[str] | None  # the region's dialling-out prefix ("010" in Japan)


def _phone_prefixes(region: str) -> PhonePrefixes | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    code = phonenumbers.country_code_for_region(region)
    if metadata is None or not metadata.national_prefix or not code or metadata.general_desc is None:
        return None
    lengths = frozenset(metadata.general_desc.possible_length or ())
    international = re.compile(metadata.international_prefix) if metadata.international_prefix else None
    return PhonePrefixes(metadata.national_prefix, f"+{code}", lengths, international)


#: For ASCII text without inner spaces, ``normalise_code`` is ``strip().upper()`` and ``normalise_email``
#: is ``strip().lower()`` (NFKC changes no ASCII); membership's ``active`` against Aurora's ``ACTIVE`` is
#: a million rows of a sweep.
_ASCII_FOLDS: dict[FieldKind, Callable[[str], str]] = {FieldKind.CODE: str.upper, FieldKind.EMAIL: str.lower}


def _same_folded(a_raw: tuple[Any, ...], s_raw: tuple[Any, ...], fold: Callable[[str], str]) -> bool:
    (a,), (s,) = a_raw, s_raw
    if not (isinstance(a, str) and isinstance(s, str) and a.isascii() and s.isascii()):
        return False
    a, s = a.strip(), s.strip()
    return bool(a) and " " not in a and fold(a) == fold(s)


_PHONE_JUNK = re.compile(r"[\s\-().]")
_E164_DIGITS = re.compile(r"^\+[1-9]\d{6,14}$")


def _same_phone(a_raw: tuple[Any, ...], s_raw: tuple[Any, ...], prefixes: PhonePrefixes) -> bool:
    """``090-1234-5678`` (national, Aurora) against ``+819012345678`` (E.164, the SaaS) without a parse.

    The sweep's most common comparison: a ``phonenumbers`` parse costs tens of
    microseconds, a million rows of it most of a minute. Only an exact
    trunk-prefix-for-country-code correspondence of ASCII digits, whose
    national part has a possible length, and which does not begin with the
    region's international prefix (then it would dial out), counts as equal here; anything
    else goes to the full normalisation.
    """
    (national,), (e164,) = a_raw, s_raw
    if not (isinstance(national, str) and isinstance(e164, str) and _E164_DIGITS.match(e164)):
        return False
    digits = _PHONE_JUNK.sub("", national)
    rest = digits[len(prefixes.trunk) :]
    return (
        digits.isascii()
        and digits.isdigit()
        and digits.startswith(prefixes.trunk)
        and rest[:1] not in ("", "0")
        and (prefixes.international is None or prefixes.international.match(digits) is None)
        and len(rest) in prefixes.lengths
        and e164 == prefixes.country + rest
    )


def _getter(columns: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``fields -> tuple of values``; raises ``KeyError`` when a column is absent."""
    if len(columns) == 1:
        (column,) = columns
        return lambda fields: (fields[column],)
    return itemgetter(*columns)


class KeyComparer:
    """Compares one key at a time for one SaaS mapping under one policy."""

    def __init__(self, mapping: SystemMapping, policy: DiffPolicy) -> None:
        self.mapping = mapping
        self.policy = policy
        self._settled_before = policy.now - policy.grace
        self._system = mapping.system
        self._rules = tuple(_CompiledRule.of(rule, mapping.default_region) for rule in mapping.fields)

    def compare(
        self, key: str, aurora: Record | None, saas: Sequence[Record], saas_total: int | None = None
    ) -> tuple[Outcome, ...]:
        """Findings for ``key`` (empty when clean), or a single ``Deferred``.

        ``saas`` may be capped by the caller; ``saas_total`` is then the true count.
        """
        total = len(saas) if saas_total is None else saas_total
        if aurora is None and not total:
            return _CLEAN  # in neither system: consistent (the incremental path can ask about such keys)
        deferred = self._deferral(key, aurora, saas)
        if deferred is not None:
            return (deferred,)
        if aurora is None:
            why = f"no {self.mapping.link_field}" if key == "" else f"no Aurora customer with cust_no {key}"
            return (
                self._finding(
                    DriftKind.ORPHAN_IN_SAAS, key, saas, f"{why}; {total} {self._system} record(s)"
                ),
            )
        status = aurora.fields.get(AURORA_STATUS_COLUMN)
        if status not in self.mapping.mirrored_statuses:
            status = normalise_code(status)
        if status is not None and status not in self.mapping.mirrored_statuses:
            if not total:
                return _CLEAN
            detail = f"Aurora status is {status}; {self._system} should not hold this customer"
            return (self._finding(DriftKind.ORPHAN_IN_SAAS, key, saas, detail),)
        if not total:
            return (self._finding(DriftKind.MISSING_IN_SAAS, key, (), f"no {self._system} record"),)
        if total > 1:
            detail = f"{total} {self._system} records share {self.mapping.link_field} {key}"
            return (self._finding(DriftKind.DUPLICATE_IN_SAAS, key, saas, detail),)
        return self._compare_fields(key, aurora, saas[0])

    def _deferral(self, key: str, aurora: Record | None, saas: Sequence[Record]) -> Deferred | None:
        if key in self.policy.in_flight:
            return Deferred(system=self._system, key=key, reason=DeferReason.IN_FLIGHT_SAGA)
        recent = self._recently_changed(aurora, saas)
        if recent is None or recent.updated_at is None:
            return None
        return Deferred(
            system=self._system,
            key=key,
            reason=DeferReason.GRACE_WINDOW,
            detail=f"{recent.system} changed at {recent.updated_at.isoformat()}",
        )

    def _recently_changed(self, aurora: Record | None, saas: Sequence[Record]) -> Record | None:
        """The first record (Aurora's before the SaaS ones) changed inside the grace window."""
        cutoff = self._settled_before
        if aurora is not None and aurora.updated_at is not None and aurora.updated_at >= cutoff:
            return aurora
        for record in saas:
            if record.updated_at is not None and record.updated_at >= cutoff:
                return record
        return None

    def _compare_fields(self, key: str, aurora: Record, saas: Record) -> tuple[Outcome, ...]:
        lag = _lag(aurora, saas)
        stale = lag is not None and lag > self.policy.stale_tolerance
        mismatches = [
            finding
            for compiled in self._rules
            if (finding := self._compare_field(compiled, key, aurora, saas, lag if stale else None))
            is not None
        ]
        if mismatches:
            return tuple(mismatches)
        if stale and lag is not None and aurora.updated_at is not None and saas.updated_at is not None:
            detail = (
                f"{self._system} last updated {_human(lag)} before Aurora "
                f"(tolerance {_human(self.policy.stale_tolerance)}); compared fields agree, "
                "so an uncompared change may be missing"
            )
            return (
                Finding(
                    kind=DriftKind.STALE,
                    system=self._system,
                    key=key,
                    field="updated_at",
                    aurora_value=aurora.updated_at.isoformat(),
                    saas_value=saas.updated_at.isoformat(),
                    saas_ids=_ids((saas,), self.policy.max_ids),
                    detail=detail,
                ),
            )
        return _CLEAN

    def _compare_field(
        self, compiled: _CompiledRule, key: str, aurora: Record, saas: Record, lag: timedelta | None
    ) -> Finding | None:
        try:
            a_raw = compiled.aurora_values(aurora.fields)
            s_raw = compiled.saas_values(saas.fields)
        except KeyError:
            return None  # compared only where both systems hold the field (a source may not fetch it)
        # Cheap checks first: raw equality (the same normaliser runs on both sides) and a name written
        # exactly "family given" / "given family"; most rows of a sweep stop here.
        if a_raw == s_raw or compiled.quick_equal(a_raw, s_raw):
            return None
        rule = compiled.rule
        region = self.mapping.default_region
        a_norm = normalise(rule.kind, a_raw, region)
        s_norm = normalise(rule.kind, s_raw, region)
        if equal(rule.kind, a_norm, s_norm):
            return None
        a_shown, s_shown = display(rule.kind, a_raw, a_norm), display(rule.kind, s_raw, s_norm)
        if rule.pii is not None:
            a_shown, s_shown = mask(a_shown, rule.pii), mask(s_shown, rule.pii)
        notes = [f"{rule.name} differs"]
        if rule.pii is not None and a_shown == s_shown:
            notes.append("the difference is inside the masked part")
        if lag is not None:
            notes.append(f"{self._system} record is {_human(lag)} older than Aurora's")
        return Finding(
            kind=DriftKind.FIELD_MISMATCH,
            system=self._system,
            key=key,
            field=rule.name,
            aurora_value=a_shown,
            saas_value=s_shown,
            saas_ids=_ids((saas,), self.policy.max_ids),
            detail="; ".join(notes),
        )

    def _finding(self, kind: DriftKind, key: str, saas: Sequence[Record], detail: str) -> Finding:
        return Finding(
            kind=kind, system=self._system, key=key, saas_ids=_ids(saas, self.policy.max_ids), detail=detail
        )


def _ids(records: Sequence[Record], limit: int) -> tuple[str, ...]:
    return tuple(r.raw_id for r in records[:limit] if r.raw_id is not None)


def _lag(aurora: Record, saas: Record) -> timedelta | None:
    if aurora.updated_at is None or saas.updated_at is None:
        return None
    return aurora.updated_at - saas.updated_at


def _human(delta: timedelta) -> str:
    """``1d 2h 3m 4s`` without zero parts; ``0s`` for nothing."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts) or "0s"
