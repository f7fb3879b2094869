"""Field mapping as data: which Aurora column is which SaaS field, and how to compare them.

Adding a SaaS system is one more ``SystemMapping`` in ``MAPPINGS`` (and one
source file under ``reconciler/sources/``); the diff engine reads nothing
system-specific from anywhere else. The mapping also turns a source's raw
row/JSON object into a ``Record``, so every source names its link key,
id and timestamp the same way and bad input fails with the field named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reconciler.masking import PiiKind
from reconciler.model import Record
from reconciler.normalise import FieldKind, canonical_key, normalise_phone, to_utc

AURORA = "aurora"

#: The Aurora ``customer`` table (instrumented_app/schema/0002_customers.sql).
AURORA_COLUMNS: frozenset[str] = frozenset(
    {"cust_no", "family_name", "given_name", "email", "phone", "status", "created_at", "updated_at"}
)
AURORA_KEY_COLUMN = "cust_no"
AURORA_UPDATED_AT_COLUMN = "updated_at"
AURORA_STATUS_COLUMN = "status"


class RecordError(ValueError):
    """A source produced a row the reconciler cannot read; the message names system, id and field."""


class FieldRule(BaseModel):
    """One compared field: its Aurora column(s), its SaaS field(s), its kind and PII class.

    Columns are listed in the same order on both sides; a ``person_name``
    lists (family, given) on the Aurora side and either (family, given) or
    one full-name field on the SaaS side.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    kind: FieldKind
    aurora: tuple[str, ...] = Field(min_length=1)
    saas: tuple[str, ...] = Field(min_length=1)
    pii: PiiKind | None = None

    @model_validator(mode="after")
    def _arity_fits_kind(self) -> FieldRule:
        unknown = [c for c in self.aurora if c not in AURORA_COLUMNS]
        if unknown:
            raise ValueError(f"field {self.name!r}: aurora columns {unknown} are not in the customer table")
        if self.kind is FieldKind.PERSON_NAME:
            if len(self.aurora) != 2 or len(self.saas) not in (1, 2):
                raise ValueError(
                    f"field {self.name!r}: person_name needs aurora (family, given) and saas "
                    f"(family, given) or (full_name,), got aurora={self.aurora} saas={self.saas}"
                )
        elif len(self.aurora) != 1 or len(self.saas) != 1:
            raise ValueError(f"field {self.name!r}: {self.kind.value} maps exactly one column on each side")
        return self


class SystemMapping(BaseModel):
    """How one SaaS system mirrors the Aurora customer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    link_field: str = Field(min_length=1, description="The SaaS field that holds cust_no.")
    id_field: str = Field(default="id", min_length=1, description="The SaaS record's own id.")
    updated_at_field: str = Field(default="updated_at", min_length=1)
    fields: tuple[FieldRule, ...] = Field(min_length=1)
    mirrored_statuses: frozenset[str] = Field(
        default=frozenset({"ACTIVE"}),
        description="Aurora statuses whose customers must exist in this system; others must not.",
    )
    default_region: str = Field(default="JP", pattern=r"^[A-Z]{2}$", description="For national phones.")
    live_field: str | None = Field(
        default=None,
        description="A flag that is false on soft-deleted objects (Zendesk users: 'active').",
    )

    @model_validator(mode="after")
    def _field_names_unique(self) -> SystemMapping:
        names = [rule.name for rule in self.fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"system {self.system!r}: field names repeated: {duplicates}")
        if self.system == AURORA:
            raise ValueError("system 'aurora' is the source of truth, not a SaaS mapping")
        return self

    def is_live(self, raw: Mapping[str, Any]) -> bool:
        """False for an object the system reports as soft-deleted; a source skips those.

        Zendesk clears ``external_id`` on delete, so a deleted user cannot be
        tied to a customer: it is the key's absence that shows, not the object.
        """
        return self.live_field is None or raw.get(self.live_field, True) is not False

    def record(self, raw: Mapping[str, Any]) -> Record:
        """A SaaS object (as its API returns it) as a ``Record`` keyed by cust_no."""
        raw_id = raw.get(self.id_field)
        if raw_id is None:
            raise RecordError(f"{self.system} record id=None: field {self.id_field!r} is missing")
        return Record(
            system=self.system,
            key=canonical_key(raw.get(self.link_field)),
            fields=raw,
            updated_at=_timestamp(raw, self.updated_at_field, self.system, "record id", raw_id),
            raw_id=str(raw_id),
        )

    def project(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The fields this system should hold for an Aurora customer row (no id, no timestamps).

        What a repair re-syncs from Aurora, the source of truth: the link key
        as Aurora spells it, phones in E.164, a one-field name as "family given".
        """
        out: dict[str, Any] = {self.link_field: row[AURORA_KEY_COLUMN]}
        for rule in self.fields:
            values = [row.get(c) for c in rule.aurora]
            if rule.kind is FieldKind.PERSON_NAME and len(rule.saas) == 1:
                out[rule.saas[0]] = " ".join(str(v) for v in values if v)
            elif rule.kind is FieldKind.PHONE:
                out[rule.saas[0]] = normalise_phone(values[0], self.default_region)
            else:
                out.update(zip(rule.saas, values, strict=True))
        return out


def aurora_record(row: Mapping[str, Any]) -> Record:
    """An Aurora ``customer`` row (column -> value) as a ``Record``."""
    cust_no = row.get(AURORA_KEY_COLUMN)
    key = canonical_key(cust_no)
    if not key:
        raise RecordError(
            f"aurora customer cust_no={cust_no!r}: field {AURORA_KEY_COLUMN!r} is missing or empty"
        )
    return Record(
        system=AURORA,
        key=key,
        fields=row,
        updated_at=_timestamp(row, AURORA_UPDATED_AT_COLUMN, AURORA, "customer cust_no", cust_no),
        raw_id=str(cust_no),
    )


def _timestamp(raw: Mapping[str, Any], field: str, system: str, what: str, ident: object) -> datetime | None:
    """``raw[field]`` in UTC; the error names the system, the record and the field (built only then:
    a sweep reads a million records and the label would cost more than the parse)."""
    value = raw.get(field)
    if value is None:
        return None
    try:
        return to_utc(value)
    except ValueError as exc:
        raise RecordError(f"{system} {what}={ident!r}: field {field!r}: {exc}") from exc


def _email() -> FieldRule:
    return FieldRule(
        name="email", kind=FieldKind.EMAIL, aurora=("email",), saas=("email",), pii=PiiKind.EMAIL
    )


def _phone() -> FieldRule:
    return FieldRule(
        name="phone", kind=FieldKind.PHONE, aurora=("phone",), saas=("phone",), pii=PiiKind.PHONE
    )


def _name(*saas: str) -> FieldRule:
    return FieldRule(
        name="name",
        kind=FieldKind.PERSON_NAME,
        aurora=("family_name", "given_name"),
        saas=saas,
        pii=PiiKind.NAME,
    )


#: Support desk (Zendesk-like users): ``external_id`` is cust_no; ``name`` is one string in either order.
SUPPORT = SystemMapping(
    system="support",
    link_field="external_id",
    fields=(_name("name"), _email(), _phone()),
    live_field="active",
)

#: Commerce (Shopify-like customers): ``multipass_identifier`` is cust_no; last_name is the family name.
COMMERCE = SystemMapping(
    system="commerce",
    link_field="multipass_identifier",
    fields=(_name("last_name", "first_name"), _email(), _phone()),
)

#: Membership (plain REST): ``member_no`` is cust_no; it also mirrors the status.
MEMBERSHIP = SystemMapping(
    system="membership",
    link_field="member_no",
    fields=(
        _name("full_name"),
        _email(),
        _phone(),
        FieldRule(name="status", kind=FieldKind.CODE, aurora=("status",), saas=("status",)),
    ),
)

MAPPINGS: dict[str, SystemMapping] = {m.system: m for m in (SUPPORT, COMMERCE, MEMBERSHIP)}


def mapping_for(system: str) -> SystemMapping:
    """The mapping for ``system``, or a clear error listing the known ones."""
    try:
        return MAPPINGS[system]
    except KeyError:
        raise KeyError(f"unknown system {system!r}; known: {', '.join(sorted(MAPPINGS))}") from None
