"""The national-vs-E.164 phone shortcut in the comparer agrees with the full normalisation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.compare import _phone_prefixes, _same_phone
from reconciler.normalise import normalise_phone

JP = _phone_prefixes("JP")
digits = st.text(alphabet="0123456789", min_size=9, max_size=11)
separators = st.sampled_from(["", "-", " ", "(", ")"])


@settings(max_examples=500)
@given(national=digits, sep=separators, other=digits)
def test_shortcut_never_calls_equal_what_normalisation_calls_different(
    national: str, sep: str, other: str
) -> None:
    assert JP is not None
    written = "0" + sep.join([national[:2], national[2:6], national[6:]])
    for e164 in ("+81" + national, "+81" + other):
        if _same_phone((written,), (e164,), JP):
            assert normalise_phone(written, "JP") == e164


def test_the_common_case_is_recognised_and_a_different_number_is_not() -> None:
    assert JP is not None and (JP.trunk, JP.country) == ("0", "+81")
    assert _same_phone(("090-1234-5678",), ("+819012345678",), JP)
    assert not _same_phone(("090-1234-5678",), ("+819012345679",), JP)
    assert not _same_phone(("090-1234-5678",), ("+19012345678",), JP)
    assert not _same_phone(("０９０-1234-5678",), ("+819012345678",), JP)  # full-width: left to normalise
