"""Display masking: e-mails and phones hidden in free text, ids and times left readable."""

from __future__ import annotations

import pytest

from dashboard.masking import EMAIL_MASK, PHONE_MASK, mask_text


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("support said 409 for taro.yamada+x@example.co.jp", "taro.yamada+x@example.co.jp"),
        ("phone 090-1234-5678 in use", "090-1234-5678"),
        ("phone +81 90 1234 5678 in use", "+81 90 1234 5678"),
        ("tel (03) 1234-5678", "(03) 1234-5678"),
        ('{"phone": "+819012345678"}', "+819012345678"),
    ],
)
def test_pii_is_hidden(text: str, hidden: str) -> None:
    masked = mask_text(text)

    assert hidden not in masked
    assert EMAIL_MASK in masked or PHONE_MASK in masked


@pytest.mark.parametrize(
    "text",
    [
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "job_24404522acba44c3bc2f62ed4a8e022b at 2026-11-24 07:06:32.995",
        "request 8d6f1a2e-4b1c-4e2a-9f1e-0a1b2c3d4e5f took 268.2 ms, 3 attempts, receive count 4",
        "cust_no C-0009, epoch 1763967992000",
    ],
)
def test_ids_times_and_numbers_stay_readable(text: str) -> None:
    assert mask_text(text) == text


def test_passwords_in_urls_are_hidden_too() -> None:
    assert mask_text("cannot reach postgresql://app:s3cret@127.0.0.1/audit") == (
        "cannot reach postgresql://app:***@127.0.0.1/audit"
    )


def test_nothing_is_empty() -> None:
    assert mask_text(None) == ""
