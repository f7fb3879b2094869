"""Account events, the rules a new event must pass, and the fold that turns events into a view.

The same ``apply`` builds the query model incrementally (one routed event at a
time) and in a replay of the whole store, which is why a rebuild equals the
incrementally built model. Amounts are integers in the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Amount = Annotated[int, Field(gt=0, le=10**12, strict=True, description="minor units")]


class AccountOpened(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["AccountOpened"]
    currency: Literal["JPY", "USD", "EUR"]


class MoneyDeposited(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["MoneyDeposited"]
    amount: Amount


class MoneyWithdrawn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["MoneyWithdrawn"]
    amount: Amount


class AccountClosed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["AccountClosed"]


AccountEvent = Annotated[
    AccountOpened | MoneyDeposited | MoneyWithdrawn | AccountClosed, Field(discriminator="type")
]


class AppendRequest(BaseModel):
    """``POST /accounts/{account_id}/events``: the event and the version the writer last saw (0: none)."""

    model_config = ConfigDict(extra="forbid")
    expected_version: int = Field(ge=0, strict=True)
    event: AccountEvent


class StoredEvent(BaseModel):
    """One item of the event store: the event with its place in the aggregate's history."""

    model_config = ConfigDict(frozen=True)
    aggregate_id: str
    version: int
    type: str
    data: dict[str, Any]
    recorded_at: str
    correlation_id: str | None = None
    traceparent: str | None = None

    @property
    def event_id(self) -> str:
        return f"{self.aggregate_id}#{self.version}"


class AccountView(BaseModel):
    """The query model of one account."""

    model_config = ConfigDict(frozen=True)
    aggregate_id: str
    version: int
    status: Literal["open", "closed"]
    currency: str
    balance: int
    deposits: int
    withdrawals: int
    last_event_at: str


class RuleBroken(ValueError):
    """The event is not allowed in the account's current state (answered with 422)."""


def check(view: AccountView | None, event: BaseModel) -> None:
    """Raise ``RuleBroken`` if ``event`` may not follow ``view`` (None: the account has no events)."""
    if view is None:
        if not isinstance(event, AccountOpened):
            raise RuleBroken("the first event of an account must be AccountOpened")
        return
    if isinstance(event, AccountOpened):
        raise RuleBroken("the account is already open")
    if view.status == "closed":
        raise RuleBroken("the account is closed")
    if isinstance(event, MoneyWithdrawn) and event.amount > view.balance:
        raise RuleBroken("the withdrawal is larger than the balance")
    if isinstance(event, AccountClosed) and view.balance != 0:
        raise RuleBroken("only an account with a zero balance can be closed")


def apply(view: AccountView | None, event: StoredEvent) -> AccountView:
    """The view after ``event``; events must come in version order (``ValueError`` otherwise)."""
    expected = (view.version if view else 0) + 1
    if event.version != expected:
        raise ValueError(f"event {event.event_id} applied out of order: expected version {expected}")
    if view is None:
        return AccountView(
            aggregate_id=event.aggregate_id,
            version=event.version,
            status="open",
            currency=str(event.data["currency"]),
            balance=0,
            deposits=0,
            withdrawals=0,
            last_event_at=event.recorded_at,
        )
    changes: dict[str, Any] = {"version": event.version, "last_event_at": event.recorded_at}
    amount = int(event.data.get("amount", 0))
    if event.type == "MoneyDeposited":
        changes.update(balance=view.balance + amount, deposits=view.deposits + 1)
    elif event.type == "MoneyWithdrawn":
        changes.update(balance=view.balance - amount, withdrawals=view.withdrawals + 1)
    elif event.type == "AccountClosed":
        changes["status"] = "closed"
    return view.model_copy(update=changes)


def fold(events: Iterable[StoredEvent], view: AccountView | None = None) -> AccountView | None:
    for event in events:
        view = apply(view, event)
    return view
