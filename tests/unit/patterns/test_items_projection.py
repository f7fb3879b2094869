"""The CQRS projection: stream records -> summary deltas (pure) and the read model on real DynamoDB."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from instrumented_app.items.projection import ReadModel, read_change, row_writes, summarize
from instrumented_app.items.store import to_attributes
from tests.unit.patterns.data_aws import moto_dynamodb, read_model_table


def image(version: int, category: str = "tools", quantity: int = 2, price: str = "10.25") -> dict[str, Any]:
    return to_attributes(
        {
            "item_id": "i1",
            "name": "hammer",
            "category": category,
            "price": Decimal(price),
            "quantity": quantity,
            "version": version,
            "created_at": "2026-03-01T09:00:00.000Z",
            "updated_at_ms": 1_000 * version,
            "correlation_id": f"c-{version}",
        }
    )


def record(name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    change: dict[str, Any] = {"Keys": {"item_id": {"S": "i1"}}, "ApproximateCreationDateTime": 50.0}
    if old:
        change["OldImage"] = old
    if new:
        change["NewImage"] = new
    return {"eventID": f"e-{name}", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": change}


def test_a_change_writes_its_category_row_and_a_tombstone_where_the_item_left() -> None:
    insert = read_change(record("INSERT", None, image(1)))
    same = read_change(record("MODIFY", image(1), image(2, quantity=5)))
    move = read_change(record("MODIFY", image(2), image(3, category="garden")))
    remove = read_change(record("REMOVE", image(3, category="garden"), None))
    assert [(w.category, w.item is None) for w in row_writes(insert)] == [("tools", False)]
    assert [(w.category, w.item is None) for w in row_writes(same)] == [("tools", False)]
    assert [(w.category, w.item is None) for w in row_writes(move)] == [("garden", False), ("tools", True)]
    assert [(w.category, w.item is None) for w in row_writes(remove)] == [("garden", True)]


def test_a_summary_sums_live_rows_and_dates_itself_by_the_latest_change() -> None:
    rows = [
        {
            "deleted": False,
            "quantity": 2,
            "value": Decimal("3.00"),
            "written_at_ms": 10,
            "projected_at_ms": 15,
        },
        {"deleted": True, "quantity": 0, "value": 0, "written_at_ms": 20, "projected_at_ms": 29},
        {"deleted": False, "quantity": 1, "value": Decimal("0.50"), "written_at_ms": 5, "projected_at_ms": 7},
    ]
    assert summarize("tools", rows) == {
        "category": "tools",
        "item_count": 2,
        "total_quantity": 3,
        "total_value": Decimal("3.50"),
        "last_written_at_ms": 20,
        "last_projected_at_ms": 29,
        "last_lag_ms": 9,
    }
    assert summarize("tools", []) is None


def test_a_removal_ranks_above_the_last_version_and_takes_its_time_from_the_stream() -> None:
    insert = read_change(record("INSERT", None, image(1)))
    modify = read_change(record("MODIFY", image(1), image(2)))
    remove = read_change(record("REMOVE", image(2), None))
    assert (insert.rank, modify.rank, remove.rank) == (2, 4, 5)
    assert (insert.written_at_ms, remove.written_at_ms) == (1_000, 50_000)
    assert remove.new is None and remove.correlation_id == "c-2"


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_dynamodb() as client:
        yield client


@pytest.fixture
def read_model(dynamodb: Any) -> ReadModel:
    return ReadModel(read_model_table(dynamodb), dynamodb)


def test_each_change_counts_once_however_often_the_stream_repeats_it(read_model: ReadModel) -> None:
    insert = read_change(record("INSERT", None, image(1, quantity=2)))
    modify = read_change(record("MODIFY", image(1, quantity=2), image(2, quantity=6)))
    assert read_model.apply(insert, 1_500)
    assert not read_model.apply(insert, 1_600)  # a replayed batch
    assert read_model.apply(modify, 2_100)
    assert not read_model.apply(insert, 2_200)  # an older record after a newer one
    summary = read_model.summary("tools")
    assert summary is not None
    assert (summary["item_count"], summary["total_quantity"], summary["total_value"]) == (
        1,
        6,
        Decimal("61.50"),
    )
    assert summary["last_lag_ms"] == 100
    row = read_model.item_row("tools", "i1")
    assert row is not None and (row["written_at_ms"], row["projected_at_ms"]) == (2_000, 2_100)


def test_a_move_and_a_removal_leave_both_categories_right_and_a_late_insert_cannot_revive_it(
    read_model: ReadModel,
) -> None:
    insert = read_change(record("INSERT", None, image(1)))
    move = read_change(record("MODIFY", image(1), image(2, category="garden")))
    remove = read_change(record("REMOVE", image(2, category="garden"), None))
    for change in (insert, move, remove):
        assert read_model.apply(change, 60_000)
    assert not read_model.apply(insert, 61_000)
    assert not read_model.apply(move, 61_000)
    tools, garden = read_model.summary("tools"), read_model.summary("garden")
    assert tools is not None and garden is not None
    assert (tools["item_count"], tools["total_quantity"], tools["total_value"]) == (0, 0, 0)
    assert (garden["item_count"], garden["total_quantity"], garden["total_value"]) == (0, 0, 0)
    for category in ("tools", "garden"):
        row = read_model.item_row(category, "i1")
        assert row is not None and row["deleted"] is True
