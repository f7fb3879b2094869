"""The shared SaaS source logic, over a fake backend that pages objects like an API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from reconciler.compare import DiffPolicy
from reconciler.mapping import SUPPORT
from reconciler.model import Finding
from reconciler.modes import full_sweep
from reconciler.sources.base import Source, Watermark
from reconciler.sources.memory import InMemorySource
from reconciler.sources.saas import SaasSource

from .builders import NOW, SETTLED, aurora_records, customer, mirror


class FakeSupport(SaasSource):
    """Objects in id order, as Zendesk lists users; lookups match external_id case-insensitively."""

    def __init__(self, objects: list[dict[str, Any]], tmp: Path) -> None:
        super().__init__(SUPPORT, sort_chunk_size=4, spill_dir=tmp)
        self.objects = sorted(objects, key=lambda o: o["id"])

    def _list_all(self) -> Iterable[Mapping[str, Any]]:
        return iter(self.objects)

    def _list_changed(self, watermark: Watermark) -> Iterable[Mapping[str, Any]]:
        return (o for o in self.objects if o["updated_at"] >= watermark.updated_at.isoformat())

    def _lookup(self, keys: Sequence[str]) -> Iterable[Mapping[str, Any]]:
        wanted = {k.casefold()[:-1] for k in keys}  # sloppy prefix match, as a search API might be
        return (o for o in self.objects if (o.get("external_id") or "").casefold()[:-1] in wanted)


def _world(tmp: Path) -> tuple[list[dict[str, Any]], FakeSupport]:
    rows = [customer(n) for n in range(20)]
    objects = [mirror(SUPPORT, r, 100 - n) for n, r in enumerate(rows)]  # ids run against key order
    objects[4].update(active=False, external_id=None, email=None)  # soft-deleted: holds no customer
    objects[9].update(email="changed@example.com", updated_at=(SETTLED + timedelta(hours=1)).isoformat())
    return rows, FakeSupport(objects, tmp)


def test_listing_comes_back_in_key_order_within_the_range(tmp_path: Path) -> None:
    _, source = _world(tmp_path)
    assert isinstance(source, Source)
    keys = [r.key for r in source.iter_sorted("C000002", "C000012")]
    assert keys == [f"C{n:06d}" for n in range(2, 12) if n != 4]


def test_soft_deleted_objects_are_skipped_so_the_customer_shows_missing(tmp_path: Path) -> None:
    rows, source = _world(tmp_path)
    found = list(
        full_sweep(SUPPORT, DiffPolicy(now=NOW), InMemorySource("aurora", aurora_records(rows)), source)
    )
    assert [(f.kind.value, f.key) for f in found if isinstance(f, Finding)] == [
        ("missing_in_saas", "C000004"),
        ("field_mismatch", "C000009"),
    ]


def test_changed_since_and_get_many(tmp_path: Path) -> None:
    _, source = _world(tmp_path)
    assert [r.key for r in source.changed_since(Watermark(SETTLED + timedelta(minutes=1)))] == ["C000009"]
    assert sorted(r.key for r in source.get_many(["C000010", "C000003"])) == ["C000003", "C000010"]
