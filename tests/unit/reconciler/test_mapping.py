"""Mappings as data: records built from raw rows, clear errors, and validation of new entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from reconciler.mapping import (
    COMMERCE,
    MAPPINGS,
    SUPPORT,
    FieldRule,
    RecordError,
    SystemMapping,
    aurora_record,
    mapping_for,
)
from reconciler.model import Record
from reconciler.normalise import FieldKind

from .builders import customer


def test_a_saas_object_becomes_a_record_keyed_by_cust_no_in_utc() -> None:
    record = SUPPORT.record(
        {"id": 9, "external_id": " c000001", "name": "x", "updated_at": "2026-01-01T09:00:00+09:00"}
    )
    assert (record.system, record.key, record.raw_id) == ("support", "C000001", "9")
    assert record.updated_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_an_aurora_row_becomes_a_record() -> None:
    record = aurora_record(customer(12))
    assert (record.system, record.key, record.raw_id) == ("aurora", "C000012", "C000012")


def test_a_saas_object_without_its_id_is_refused_by_name() -> None:
    with pytest.raises(RecordError, match="commerce record id=None: field 'id' is missing"):
        COMMERCE.record({"multipass_identifier": "C1"})


def test_a_bad_timestamp_names_system_record_and_field() -> None:
    with pytest.raises(
        RecordError, match="support record id=3: field 'updated_at': not an ISO 8601 timestamp"
    ):
        SUPPORT.record({"id": 3, "external_id": "C1", "updated_at": "last tuesday"})


def test_an_aurora_row_without_cust_no_is_refused() -> None:
    with pytest.raises(RecordError, match="field 'cust_no' is missing or empty"):
        aurora_record({"cust_no": "  ", "updated_at": datetime.now(UTC)})


def test_a_naive_updated_at_is_refused() -> None:
    with pytest.raises(ValueError, match="updated_at must be timezone-aware"):
        Record(system="aurora", key="C1", fields={}, updated_at=datetime(2026, 1, 1))


def test_a_new_saas_is_one_mapping_entry() -> None:
    crm = SystemMapping(
        system="crm",
        link_field="customer_code",
        fields=(FieldRule(name="email", kind=FieldKind.EMAIL, aurora=("email",), saas=("mail",)),),
    )
    assert crm.project(customer(1)) == {"customer_code": "C000001", "mail": "taro1@example.com"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"name": "name", "kind": "person_name", "aurora": ("family_name",), "saas": ("n",)},
            "person_name needs aurora",
        ),
        (
            {"name": "email", "kind": "email", "aurora": ("email", "phone"), "saas": ("e",)},
            "maps exactly one column",
        ),
        ({"name": "x", "kind": "text", "aurora": ("nickname",), "saas": ("x",)}, "not in the customer table"),
        ({"name": "x", "kind": "colour", "aurora": ("email",), "saas": ("x",)}, "kind"),
    ],
)
def test_a_wrong_field_rule_says_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FieldRule.model_validate(kwargs)


def test_repeated_field_names_are_refused() -> None:
    email = FieldRule(name="email", kind=FieldKind.EMAIL, aurora=("email",), saas=("email",))
    with pytest.raises(ValidationError, match=r"field names repeated: \['email'\]"):
        SystemMapping(system="crm", link_field="code", fields=(email, email))


def test_unknown_system_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown system 'erp'; known: commerce, membership, support"):
        mapping_for("erp")
    assert set(MAPPINGS) == {"support", "commerce", "membership"}


def test_projection_writes_what_the_diff_accepts() -> None:
    row = customer(3, phone="090-1111-2222")
    assert COMMERCE.project(row) == {
        "multipass_identifier": "C000003",
        "last_name": "Yamada",
        "first_name": "Taro3",
        "email": "taro3@example.com",
        "phone": "+819011112222",
    }
    assert SUPPORT.project(row)["name"] == "Yamada Taro3"


def test_soft_deleted_support_users_hold_no_customer() -> None:
    assert SUPPORT.is_live({"id": 1, "active": True})
    assert SUPPORT.is_live({"id": 1})
    assert not SUPPORT.is_live({"id": 1, "active": False, "external_id": None})
    assert COMMERCE.is_live({"id": 1, "active": False})  # commerce has no such flag: deletes are hard
