"""The support desk's users and Zendesk's rules for them, with no HTTP in sight.

Rules kept from Zendesk: ``external_id`` and ``email`` are unique among
active users, compared case-insensitively; ``name`` is required; deleting a
user is a soft delete (it can still be read, with ``active: false``, and shows
in the incremental export, but no longer in lists and no longer holds its
``external_id`` or email). Every change takes the next number of a change
sequence, which is what the incremental export's cursor walks.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.records import Window, load_all, record_from_json, record_to_json
from instrumented_app.saas_sim.support.exceptions import RecordInvalid, RecordNotFound
from instrumented_app.saas_sim.table import RecordTable
from instrumented_app.saas_sim.validation import is_email

#: The fields a client may set.
WRITABLE = ("name", "email", "phone", "external_id")
#: Unique among active users, case-insensitively.
UNIQUE = ("external_id", "email")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str | None
    phone: str | None
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    active: bool
    seq: int  # position in the change sequence


@dataclass(frozen=True)
class ExportPage:
    users: list[User]
    last_seq: int
    end_of_stream: bool


def _new_table() -> RecordTable[int, User]:
    return RecordTable(
        key=lambda user: user.id,
        unique={field: attrgetter(field) for field in UNIQUE},
        unique_when=lambda user: user.active,
        order=lambda user: (user.seq,),
        link=attrgetter("external_id"),
    )


class SupportBackend:
    """All users of one simulated Zendesk account; thread-safe."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._users = _new_table()
        self._next_id = 1
        self._seq = 0

    def create_user(
        self,
        fields: Mapping[str, str | None],
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        active: bool = True,
    ) -> User:
        """A new user; the timestamps default to now (a bulk load passes its own)."""
        with self._lock:
            # A deleted user holds no external_id or email, so only an active one is checked for clashes.
            values = self._checked(fields, existing=None, unique=active)
            created = (created_at or self._clock.now()).replace(microsecond=0)
            user = User(
                id=self._next_id,
                name=values.get("name") or "",
                email=values.get("email"),
                phone=values.get("phone"),
                external_id=values.get("external_id"),
                created_at=created,
                updated_at=(updated_at or created).replace(microsecond=0),
                active=active,
                seq=self._next_seq(),
            )
            self._next_id += 1
            self._users.put(user)
            return user

    def get_user(self, user_id: int) -> User:
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                raise RecordNotFound()
            return user

    def update_user(self, user_id: int, fields: Mapping[str, str | None]) -> User:
        with self._lock:
            user = self._active(user_id)
            values = self._checked(fields, existing=user)
            updated = replace(user, **values, updated_at=self._now(), seq=self._next_seq())
            self._users.put(updated)
            return updated

    def delete_user(self, user_id: int) -> User:
        """Soft delete; a user already deleted is not found again."""
        with self._lock:
            user = self._active(user_id)
            deleted = replace(user, active=False, updated_at=self._now(), seq=self._next_seq())
            self._users.put(deleted)
            return deleted

    def load(self, entries: Sequence[Mapping[str, Any]]) -> int:
        """Create every user given (with their timestamps and ``active``) or, on a refusal, none."""
        with self._lock:
            return load_all(entries, self._load_one, lambda user: self._users.remove(user.id), _rejection)

    def create_or_update(self, fields: Mapping[str, str | None]) -> tuple[User, bool]:
        """Zendesk's upsert: match an active user by external_id, else by email. True when created."""
        with self._lock:
            match = None
            for field in UNIQUE:
                value = fields.get(field)
                if match is None and value:
                    match = self._users.holder(field, value)
            if match is None:
                return self.create_user(fields), True
            return self.update_user(match.id, fields), False

    def list_window(
        self, size: int, after_id: int | None = None, before_id: int | None = None
    ) -> Window[User]:
        """Active users by id, ``size`` of them just after ``after_id`` or just before ``before_id``."""
        with self._lock:
            return self._users.by_id(size, after=after_id, before=before_id, keep=lambda user: user.active)

    def get_many(self, ids: list[int] | None = None, external_ids: list[str] | None = None) -> list[User]:
        """Users by id or by external_id (Zendesk's ``show_many``), deleted ones included, by id."""
        with self._lock:
            found = [self._users.get(user_id) for user_id in ids or []]
            if external_ids:
                found += self._users.with_links(external_ids)
            return sorted({user.id: user for user in found if user is not None}.values(), key=lambda u: u.id)

    def search(self, external_id: str | None = None, email: str | None = None) -> list[User]:
        """The active user holding every value given (each is unique): a list of zero or one."""
        wanted = [
            (field, value) for field, value in (("external_id", external_id), ("email", email)) if value
        ]
        with self._lock:
            holders = {self._users.holder(field, value) for field, value in wanted}
        return [user for user in holders if user is not None] if len(holders) == 1 else []

    def export(self, start_time: datetime | None, after_seq: int, per_page: int) -> ExportPage:
        """Users changed since ``start_time`` (first page) or after ``after_seq``, in change order."""
        with self._lock:
            page, more = self._users.in_order(
                per_page,
                after=(after_seq,),
                keep=lambda user: start_time is None or user.updated_at >= start_time,
            )
            # At the end, the cursor covers every change so far: the next poll starts from "now".
            last_seq = page[-1].seq if more else self._seq
            return ExportPage(page, last_seq, end_of_stream=not more)

    def export_page(
        self, size: int, key_gte: str | None, key_lt: str | None, after: tuple[str, int] | None
    ) -> tuple[list[User], bool]:
        """Active users in ``(external_id, id)`` order (``table.link_key``); and whether more follow."""
        with self._lock:
            return self._users.by_link(
                size, after=after, key_gte=key_gte, key_lt=key_lt, keep=lambda user: user.active
            )

    def count(self) -> int:
        with self._lock:
            return sum(1 for user in self._users if user.active)

    def reset(self) -> None:
        with self._lock:
            self._users.clear()
            self._next_id = 1
            self._seq = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            users = [record_to_json(user) for user in self._users]
            return {"next_id": self._next_id, "seq": self._seq, "users": users}

    def restore(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            self.reset()
            for item in data.get("users", []):
                self._users.put(record_from_json(User, item))
            self._next_id = int(data.get("next_id", len(self._users) + 1))
            self._seq = int(data.get("seq", 0))

    def _active(self, user_id: int) -> User:
        user = self.get_user(user_id)
        if not user.active:
            raise RecordNotFound()
        return user

    def _load_one(self, entry: Mapping[str, Any]) -> User:
        fields = {name: entry[name] for name in WRITABLE if name in entry}
        return self.create_user(
            fields, entry.get("created_at"), entry.get("updated_at"), active=entry.get("active", True)
        )

    def _checked(
        self, fields: Mapping[str, str | None], existing: User | None, unique: bool = True
    ) -> dict[str, Any]:
        """The writable fields given, after Zendesk's checks; raises ``RecordInvalid`` naming the field."""
        values: dict[str, Any] = {name: fields[name] for name in WRITABLE if name in fields}
        name = values.get("name", existing.name if existing else None)
        if not name or not name.strip():
            raise RecordInvalid("name", "cannot be blank", "BlankValue")
        email = values.get("email")
        if email is not None and not is_email(email):
            raise RecordInvalid("email", f"{email} is not properly formatted", "InvalidFormat")
        for field in UNIQUE if unique else ():
            value = values.get(field)
            holder = self._users.holder(field, value) if value else None
            if holder is not None and (existing is None or holder.id != existing.id):
                raise RecordInvalid(field, f"{value} has already been taken", "DuplicateValue")
        return values

    def _now(self) -> datetime:
        return self._clock.now().replace(microsecond=0)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq


def _rejection(exc: Exception) -> tuple[str, str] | None:
    if isinstance(exc, RecordInvalid) and exc.details:
        return exc.field, exc.details[exc.field][0]["description"]
    return None
