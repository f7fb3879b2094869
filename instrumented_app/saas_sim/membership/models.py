"""Members and their rules: ``member_no`` (our ``cust_no``) unique (case-insensitively), a name, a valid
email and phone.

Delete is a hard delete. Lists run in ``(updated_at, id)`` order so that a
client polling with ``updated_since`` sees every change, and a walk by
cursor sees each member once unless it changes during the walk (then once
more, later, as it should).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter
from typing import Any, Literal, get_args

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.membership.exceptions import (
    InvalidMember,
    MemberConflict,
    MemberNotFound,
    MembershipError,
)
from instrumented_app.saas_sim.records import load_all, record_from_json, record_to_json
from instrumented_app.saas_sim.table import RecordTable
from instrumented_app.saas_sim.validation import is_email, to_e164

Status = Literal["active", "suspended", "cancelled"]
STATUSES: tuple[str, ...] = get_args(Status)
WRITABLE = ("member_no", "full_name", "email", "phone", "status")


@dataclass(frozen=True)
class Member:
    id: str
    member_no: str
    full_name: str
    email: str | None
    phone: str | None
    status: str
    created_at: datetime
    updated_at: datetime


class MembershipBackend:
    """All members; thread-safe."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        # Ids are zero-padded, so their text order is their creation order, as the table needs.
        self._members: RecordTable[str, Member] = RecordTable(
            key=attrgetter("id"),
            unique={"member_no": attrgetter("member_no")},
            order=lambda m: (m.updated_at,),
            link=attrgetter("member_no"),
        )
        self._next = 1

    def create_member(
        self,
        fields: Mapping[str, str | None],
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
    ) -> Member:
        """A new member; the timestamps default to now (a bulk load passes its own)."""
        with self._lock:
            values = self._checked(fields, existing=None)
            if not values.get("member_no"):
                raise InvalidMember("member_no is required", "member_no")
            created = created_at or self._clock.now()
            member = Member(
                id=f"mbr_{self._next:010d}",
                member_no=str(values["member_no"]),
                full_name=str(values["full_name"]),
                email=values.get("email"),
                phone=values.get("phone"),
                status=values.get("status") or "active",
                created_at=created,
                updated_at=updated_at or created,
            )
            self._next += 1
            self._members.put(member)
            return member

    def load(self, entries: Sequence[Mapping[str, Any]]) -> int:
        """Create every member given (with their timestamps) or, on a refusal, none."""
        with self._lock:
            return load_all(entries, self._load_one, lambda m: self._members.remove(m.id), _rejection)

    def _load_one(self, entry: Mapping[str, Any]) -> Member:
        fields = {name: entry[name] for name in WRITABLE if name in entry}
        return self.create_member(fields, entry.get("created_at"), entry.get("updated_at"))

    def get_member(self, member_id: str) -> Member:
        with self._lock:
            member = self._members.get(member_id)
            if member is None:
                raise MemberNotFound(member_id)
            return member

    def update_member(self, member_id: str, fields: Mapping[str, str | None]) -> Member:
        with self._lock:
            member = self.get_member(member_id)
            values = self._checked(fields, existing=member)
            updated = replace(member, **values, updated_at=self._clock.now())
            self._members.put(updated)
            return updated

    def delete_member(self, member_id: str) -> None:
        with self._lock:
            self.get_member(member_id)
            self._members.remove(member_id)

    def list_page(
        self,
        limit: int,
        updated_since: datetime | None,
        after: tuple[datetime, str] | None,
        member_no: str | None = None,
    ) -> tuple[list[Member], bool]:
        """Members in ``(updated_at, id)`` order past ``after``; and whether more follow."""
        since = None if updated_since is None else (updated_since,)
        with self._lock:
            if member_no is None:
                return self._members.in_order(limit, after=after, since=since)
            holder = self._members.holder("member_no", member_no)
        if holder is None:
            return [], False
        recent = updated_since is None or holder.updated_at >= updated_since
        past_cursor = after is None or (holder.updated_at, holder.id) > after
        return ([holder] if recent and past_cursor else []), False

    def export_page(
        self, limit: int, key_gte: str | None, key_lt: str | None, after: tuple[str, str] | None
    ) -> tuple[list[Member], bool]:
        """Members in ``(member_no, id)`` order (``table.link_key``) past ``after``; and if more follow."""
        with self._lock:
            return self._members.by_link(limit, after=after, key_gte=key_gte, key_lt=key_lt)

    def with_member_nos(self, member_nos: Sequence[str]) -> list[Member]:
        """The members holding any of ``member_nos`` (case-insensitively), by member_no."""
        with self._lock:
            return self._members.with_links(member_nos)

    def count(self) -> int:
        with self._lock:
            return len(self._members)

    def reset(self) -> None:
        with self._lock:
            self._members.clear()
            self._next = 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"next": self._next, "members": [record_to_json(member) for member in self._members]}

    def restore(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            self.reset()
            for item in data.get("members", []):
                self._members.put(record_from_json(Member, item))
            self._next = int(data.get("next", len(self._members) + 1))

    def _checked(self, fields: Mapping[str, str | None], existing: Member | None) -> dict[str, Any]:
        values: dict[str, Any] = {name: fields[name] for name in WRITABLE if name in fields}
        for required in ("member_no", "full_name", "status"):
            if required in values and not (values[required] or "").strip():
                raise InvalidMember(f"{required} must not be empty", required)
        if existing is None and not (values.get("full_name") or "").strip():
            raise InvalidMember("full_name is required", "full_name")
        if values.get("status") and values["status"] not in STATUSES:
            raise InvalidMember(f"status must be one of {', '.join(STATUSES)}", "status")
        if values.get("email") and not is_email(values["email"]):
            raise InvalidMember("email is not a valid email address", "email")
        if values.get("phone"):
            normalised = to_e164(values["phone"])
            if normalised is None:
                raise InvalidMember(
                    "phone must be a valid number in E.164 form (+<country><number>)", "phone"
                )
            values["phone"] = normalised
        member_no = values.get("member_no")
        if member_no:
            holder = self._members.holder("member_no", member_no)
            if holder is not None and (existing is None or holder.id != existing.id):
                raise MemberConflict(f"member_no {member_no} is already held by {holder.id}", "member_no")
        return values


def _rejection(exc: Exception) -> tuple[str, str] | None:
    if isinstance(exc, MembershipError):
        return exc.field or "record", exc.message
    return None
