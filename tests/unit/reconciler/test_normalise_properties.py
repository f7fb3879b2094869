"""Properties of normalisation that the diff engine's shortcuts rely on."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from reconciler.normalise import FieldKind, equal, normalise, normalise_email, normalise_phone, normalise_text

japanese_mobiles = st.builds(
    lambda prefix, rest: f"0{prefix}-{rest // 10000:04d}-{rest % 10000:04d}",
    st.sampled_from(["70", "80", "90"]),
    st.integers(min_value=0, max_value=99_999_999),
)
words = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8)


@given(japanese_mobiles)
def test_a_phone_normalises_to_a_fixed_point(national: str) -> None:
    e164 = normalise_phone(national, "JP")
    assert e164 is not None and e164.startswith("+81")
    assert normalise_phone(e164, "JP") == e164


@given(st.text(max_size=40))
@example("A\u00af")  # NFKC splits the macron off, case folding leaves it uncomposed: fold, then NFKC again
def test_text_and_email_normalisation_are_idempotent(value: str) -> None:
    text = normalise_text(value)
    assert normalise_text(text) == text
    email = normalise_email(value)
    assert normalise_email(email) == email


@given(words, words, st.booleans())
def test_a_name_matches_itself_written_in_either_order(
    family: str, given_name: str, family_first: bool
) -> None:
    structured = normalise(FieldKind.PERSON_NAME, (family, given_name), "JP")
    full = f"{family} {given_name}" if family_first else f"{given_name} {family}"
    single = normalise(FieldKind.PERSON_NAME, (full,), "JP")
    assert equal(FieldKind.PERSON_NAME, structured, single)
    assert equal(FieldKind.PERSON_NAME, single, structured)


@given(words, words, words)
def test_name_equality_is_symmetric(family: str, given_name: str, other: str) -> None:
    structured = normalise(FieldKind.PERSON_NAME, (family, given_name), "JP")
    single = normalise(FieldKind.PERSON_NAME, (f"{other} {given_name}",), "JP")
    assert equal(FieldKind.PERSON_NAME, structured, single) == equal(
        FieldKind.PERSON_NAME, single, structured
    )
