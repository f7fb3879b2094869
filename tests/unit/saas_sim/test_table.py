"""``RecordTable``: the storage under every model, with its unique and order indexes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from instrumented_app.saas_sim.table import RecordTable


@dataclass(frozen=True)
class Row:
    id: int
    code: str | None
    seq: int
    live: bool = True


def _table() -> RecordTable[int, Row]:
    return RecordTable(
        key=lambda row: row.id,
        unique={"code": lambda row: row.code},
        unique_when=lambda row: row.live,
        order=lambda row: (row.seq,),
    )


def test_pages_by_id_forward_and_back_with_a_filter() -> None:
    table = _table()
    for n in range(1, 10):
        table.put(Row(n, None, n, live=n % 3 != 0))  # 3, 6, 9 are not live
    forward = table.by_id(2, after=2, keep=lambda row: row.live)
    assert [row.id for row in forward.items] == [4, 5] and forward.has_before and forward.has_after
    backward = table.by_id(2, before=4, keep=lambda row: row.live)
    assert [row.id for row in backward.items] == [1, 2] and not backward.has_before and backward.has_after
    last = table.by_id(5, after=7, keep=lambda row: row.live)
    assert [row.id for row in last.items] == [8] and not last.has_after


def test_unique_index_follows_replacements_and_removals() -> None:
    table = _table()
    table.put(Row(1, "Ab", 1))
    assert table.holder("code", "aB") == Row(1, "Ab", 1)
    table.put(Row(1, "Cd", 2))
    assert table.holder("code", "ab") is None and table.holder("code", "CD") is not None
    table.put(Row(1, "Cd", 3, live=False))
    assert table.holder("code", "cd") is None, "a record that is not live holds no unique value"
    table.put(Row(2, "cd", 4))
    table.remove(1)
    assert table.holder("code", "CD") == Row(2, "cd", 4), (
        "removing a dead record frees nothing it did not hold"
    )


def test_second_order_moves_a_record_when_it_changes() -> None:
    table = _table()
    for n in range(1, 5):
        table.put(Row(n, None, n))
    table.put(Row(2, None, 9))
    page, more = table.in_order(2, after=(1,))
    assert [row.id for row in page] == [3, 4] and more
    page, more = table.in_order(10, since=(9,))
    assert [row.id for row in page] == [2] and not more


def test_ids_must_be_handed_out_increasing() -> None:
    table = _table()
    table.put(Row(5, None, 1))
    with pytest.raises(ValueError, match="increasing"):
        table.put(Row(4, None, 2))
