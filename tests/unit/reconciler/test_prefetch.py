"""``prefetch``: same items in the same order, errors reach the reader, an early stop ends the thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from reconciler.sources.prefetch import prefetch


def test_items_arrive_in_order_and_complete() -> None:
    assert list(prefetch(iter(range(10_000)), max_items=7, batch=3)) == list(range(10_000))
    assert list(prefetch(iter(range(1_001)), batch=250)) == list(range(1_001))  # a last, partial batch


@pytest.mark.parametrize("batch", [1, 10])
def test_an_error_in_the_listing_is_raised_to_the_reader_after_the_items_before_it(batch: int) -> None:
    def listing() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("page 3 failed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        for item in prefetch(listing(), max_items=1, batch=batch):
            got.append(item)
    assert got == [1, 2]


def test_a_reader_that_stops_early_stops_the_producer() -> None:
    produced = 0

    def endless() -> Iterator[int]:
        nonlocal produced
        while True:
            produced += 1
            yield produced

    stream = prefetch(endless(), max_items=5, batch=1)
    assert next(stream) == 1
    stream.close()
    time.sleep(0.3)
    seen = produced
    time.sleep(0.3)
    assert produced == seen <= 8  # bounded read-ahead, and nothing more once closed
    assert not any(t.name == "saas-prefetch" and t.is_alive() for t in threading.enumerate())


def test_bad_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="max_items and batch must be at least 1"):
        next(prefetch([1], max_items=0))
