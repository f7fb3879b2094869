"""Rebuild the query model from the event store, and compare it with the one the consumers built.

The rebuild folds every stored event with the same ``apply`` the consumer
uses, so on a settled system ``differences(rebuild(store), views.all())`` is
empty; anything it lists is a view the incremental path got wrong (or has not
reached yet).
"""

from __future__ import annotations

from collections import defaultdict

from instrumented_app.eventsourcing.model import AccountView, StoredEvent, fold
from instrumented_app.eventsourcing.store import EventStore
from instrumented_app.eventsourcing.views import AccountViews


def rebuild(events: list[StoredEvent]) -> dict[str, AccountView]:
    """Every aggregate's view from its events (in any order: they are sorted by version per aggregate)."""
    by_aggregate: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in events:
        by_aggregate[event.aggregate_id].append(event)
    views = {}
    for aggregate_id, history in by_aggregate.items():
        view = fold(sorted(history, key=lambda e: e.version))
        if view is not None:
            views[aggregate_id] = view
    return views


def differences(rebuilt: dict[str, AccountView], current: dict[str, AccountView]) -> list[str]:
    """One line per account whose view differs (or exists on one side only); empty when they are equal."""
    found = []
    for aggregate_id in sorted(set(rebuilt) | set(current)):
        want, have = rebuilt.get(aggregate_id), current.get(aggregate_id)
        if want != have:
            found.append(
                f"{aggregate_id}: rebuilt version {want.version if want else None}, "
                f"query model version {have.version if have else None}"
            )
    return found


def replay_into(store: EventStore, views: AccountViews) -> dict[str, AccountView]:
    """Replace the query model with the rebuild (accounts without events are removed); returns it."""
    rebuilt = rebuild(list(store.all_events()))
    for aggregate_id in set(views.all()) - set(rebuilt):
        views.delete(aggregate_id)
    for view in rebuilt.values():
        views.put(view)
    return rebuilt
