from datetime import UTC, datetime, timedelta

import pytest

from sagawatch.contracts import (
    SagaState,
    SagaStatus,
    correlation_id_from_headers,
    is_stuck,
    is_valid_correlation_id,
)

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _saga(status: SagaStatus, idle_s: float, deadline: datetime | None = None) -> SagaState:
    return SagaState(
        id="s-1",
        type="customer",
        correlation_id="c-1",
        status=status,
        started_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(seconds=idle_s),
        deadline=deadline,
    )


def test_correlation_id_is_taken_from_the_header_whatever_its_case() -> None:
    assert correlation_id_from_headers({"x-correlation-id": "order-42"}) == ("order-42", False)
    assert correlation_id_from_headers({"X-CORRELATION-ID": "order-42"}) == ("order-42", False)


@pytest.mark.parametrize("bad", ["", "a\nb", "x" * 129, '"quoted"', "-leading-dash", "spa ce"])
def test_an_unsafe_correlation_id_is_replaced_by_a_minted_one(bad: str) -> None:
    value, minted = correlation_id_from_headers({"X-Correlation-Id": bad})
    assert minted
    assert value != bad
    assert is_valid_correlation_id(value)


def test_missing_header_mints_a_unique_id() -> None:
    first, minted = correlation_id_from_headers({})
    second, _ = correlation_id_from_headers(None)
    assert minted and first != second


def test_a_live_saga_idle_past_its_threshold_is_stuck() -> None:
    assert is_stuck(_saga(SagaStatus.RUNNING, idle_s=121), NOW, threshold_s=120)
    assert not is_stuck(_saga(SagaStatus.RUNNING, idle_s=119), NOW, threshold_s=120)


def test_a_saga_past_its_deadline_is_stuck_even_when_it_moved_recently() -> None:
    saga = _saga(SagaStatus.COMPENSATING, idle_s=1, deadline=NOW - timedelta(seconds=1))
    assert is_stuck(saga, NOW, threshold_s=3600)


@pytest.mark.parametrize(
    "status",
    [SagaStatus.SUCCEEDED, SagaStatus.COMPENSATED, SagaStatus.FAILED, SagaStatus.MANUAL_INTERVENTION],
)
def test_a_terminal_saga_is_never_stuck(status: SagaStatus) -> None:
    saga = _saga(status, idle_s=10**6, deadline=NOW - timedelta(days=1))
    assert not is_stuck(saga, NOW, threshold_s=1)
