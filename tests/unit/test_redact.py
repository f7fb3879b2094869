import pytest

from sagawatch.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://app:s3cret@db.internal:5432/aurora", "postgresql://app:***@db.internal:5432/aurora"),
        (
            "could not connect: host=db password=s3cret user=app",
            "could not connect: host=db password=*** user=app",
        ),
        ("password='two words' host=db", "password=*** host=db"),
        ("postgresql://postgres:@/aurora?host=/tmp/x", "postgresql://postgres:@/aurora?host=/tmp/x"),
        ("http://127.0.0.1:4318/v1/traces", "http://127.0.0.1:4318/v1/traces"),
    ],
)
def test_passwords_never_reach_what_is_printed(text: str, expected: str) -> None:
    assert redact(text) == expected
