"""PII masking: a hint survives, the value never does."""

from __future__ import annotations

import pytest

from reconciler.masking import PiiKind, mask


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("taro.yamada@example.co.jp", PiiKind.EMAIL, "t***@***.jp"),
        ("+819012345678", PiiKind.PHONE, "+81*****78"),
        ("Yamada Taro", PiiKind.NAME, "Y*** T***"),
        ("山田 太郎", PiiKind.NAME, "山*** 太***"),
    ],
)
def test_masks_keep_only_a_hint(value: str, kind: PiiKind, expected: str) -> None:
    assert mask(value, kind) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("not-an-email", PiiKind.EMAIL),
        ("12345", PiiKind.PHONE),
        ("callme", PiiKind.PHONE),
        ("李", PiiKind.NAME),
    ],
)
def test_values_too_short_or_odd_for_a_hint_are_erased_whole(value: str, kind: PiiKind) -> None:
    masked = mask(value, kind)
    assert masked is not None
    assert value not in masked
    assert set(masked) == {"*"}


def test_none_stays_none() -> None:
    assert mask(None, PiiKind.EMAIL) is None
