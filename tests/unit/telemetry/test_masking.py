"""PII masking of finished log lines: by key at any depth, and email-shaped text anywhere."""

from __future__ import annotations

import json

import pytest

from instrumented_app.telemetry.masking import MASK, mask_json_line, mask_text


def test_values_under_pii_keys_are_masked_at_any_depth_and_in_lists() -> None:
    line = json.dumps(
        {
            "message": "ok",
            "user": {"firstName": "Ann", "lastName": "Lee", "emailAddress": "ann@x.io", "tier": 2},
            "rows": [{"phone_number": "555-0100", "name": {"first": "Ann"}}],
        }
    )
    masked = json.loads(mask_json_line(line))
    assert masked["user"] == {"firstName": MASK, "lastName": MASK, "emailAddress": MASK, "tier": 2}
    assert masked["rows"] == [{"phone_number": MASK, "name": MASK}]


def test_a_line_without_pii_is_returned_unchanged() -> None:
    line = '{"level":"INFO","message":"order 42 shipped","function_name":"ship"}'
    assert mask_json_line(line) is line


@pytest.mark.parametrize(
    "text",
    [
        "escape then address \u001bx@y.io",
        'quoted "a.b+c@sub.example.co.jp" here',
        "back\\slash\\n@notanemail",
        "tab\tand ümlaut ü@example.de",
    ],
)
def test_masking_email_text_always_leaves_valid_json(text: str) -> None:
    line = json.dumps({"message": text, "email_like_key@example.com": 1}, ensure_ascii=False)
    masked = json.loads(mask_json_line(line))
    assert "@example" not in json.dumps(masked) and "x@y.io" not in json.dumps(masked)


def test_mask_text_masks_addresses_but_not_other_at_signs() -> None:
    assert mask_text("mail taro.yamada+shop@example.co.jp now") == f"mail {MASK} now"
    assert mask_text("meet @ 10:00, handle @taro") == "meet @ 10:00, handle @taro"
