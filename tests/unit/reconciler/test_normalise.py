"""Normalisation: values an operator would call the same compare equal, and only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from reconciler.normalise import (
    FieldKind,
    canonical_key,
    equal,
    normalise,
    normalise_email,
    normalise_phone,
    normalise_text,
    to_utc,
)


def test_emails_differing_only_in_case_and_spaces_are_equal() -> None:
    assert normalise_email("  Taro.Yamada@Example.COM ") == normalise_email("taro.yamada@example.com")


def test_full_width_email_matches_ascii() -> None:
    assert normalise_email("ｔａｒｏ＠example.com") == "taro@example.com"


def test_different_emails_stay_different() -> None:
    assert normalise_email("taro@example.com") != normalise_email("jiro@example.com")


@pytest.mark.parametrize(
    "national", ["090-1234-5678", "09012345678", "090 1234 5678", "(090) 1234-5678", "０９０ー1234ー5678"]
)
def test_japanese_national_phone_equals_e164_in_region_jp(national: str) -> None:
    assert normalise_phone(national, "JP") == "+819012345678"
    assert normalise_phone("+81 90-1234-5678", "JP") == "+819012345678"


def test_the_default_region_decides_how_a_national_number_reads() -> None:
    assert normalise_phone("(415) 555-0132", "US") == "+14155550132"
    assert normalise_phone("(415) 555-0132", "US") != normalise_phone("(415) 555-0132", "JP")


def test_unparseable_phone_is_kept_compacted_not_dropped() -> None:
    assert normalise_phone("call me maybe", "JP") == "callmemaybe"
    assert normalise_phone("12", "JP") == "12"
    assert normalise_phone("  ", "JP") is None
    assert normalise_phone(None, "JP") is None


def test_text_collapses_whitespace_including_ideographic_space() -> None:
    assert normalise_text(" Shibuya\u3000 1-2-3\t ") == "Shibuya 1-2-3"
    assert normalise_text("   ") is None


@pytest.mark.parametrize(
    "saas",
    [("Taro Yamada",), ("Yamada Taro",), ("  yamada   TARO ",), ("ＹａｍａｄａＴａｒｏ",), ("TaroYamada",)],
)
def test_a_one_string_name_matches_in_either_order(saas: tuple[str, ...]) -> None:
    aurora = normalise(FieldKind.PERSON_NAME, ("Yamada", "Taro"), "JP")
    assert equal(FieldKind.PERSON_NAME, aurora, normalise(FieldKind.PERSON_NAME, saas, "JP"))


def test_japanese_name_with_or_without_a_space_matches() -> None:
    aurora = normalise(FieldKind.PERSON_NAME, ("山田", "太郎"), "JP")
    for saas in ("山田 太郎", "山田太郎", "山田\u3000太郎"):
        assert equal(FieldKind.PERSON_NAME, aurora, normalise(FieldKind.PERSON_NAME, (saas,), "JP"))


@pytest.mark.parametrize("saas", [("Johns Mith",), ("John Smithe",), ("John",), ("John Smith Jr",)])
def test_a_name_that_only_shares_letters_does_not_match(saas: tuple[str, ...]) -> None:
    aurora = normalise(FieldKind.PERSON_NAME, ("Smith", "John"), "JP")
    assert not equal(FieldKind.PERSON_NAME, aurora, normalise(FieldKind.PERSON_NAME, saas, "JP"))


def test_structured_names_must_agree_part_by_part() -> None:
    aurora = normalise(FieldKind.PERSON_NAME, ("Yamada", "Taro"), "JP")
    assert equal(FieldKind.PERSON_NAME, aurora, normalise(FieldKind.PERSON_NAME, ("yamada", " Taro"), "JP"))
    swapped = normalise(FieldKind.PERSON_NAME, ("Taro", "Yamada"), "JP")
    assert not equal(FieldKind.PERSON_NAME, aurora, swapped)


def test_timestamps_with_offsets_land_on_the_same_utc_instant() -> None:
    expected = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert to_utc("2026-01-01T09:00:00+09:00") == expected
    assert to_utc("2026-01-01T00:00:00Z") == expected
    assert to_utc(datetime(2025, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5)))) == expected
    assert to_utc(expected.timestamp()) == expected
    assert to_utc("2026-01-01T09:00:00").tzinfo is UTC


def test_naive_timestamps_are_read_in_the_given_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert to_utc("2026-01-01T09:00:00", default_tz=tokyo) == datetime(2026, 1, 1, tzinfo=UTC)


def test_bad_timestamps_say_what_was_wrong() -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 timestamp: 'yesterday'"):
        to_utc("yesterday")
    with pytest.raises(ValueError, match="not a timestamp"):
        to_utc([2026])


def test_canonical_key_is_case_insensitive_and_trimmed() -> None:
    assert canonical_key(" c000123 ") == canonical_key("C000123") == "C000123"
    assert canonical_key(None) == ""
