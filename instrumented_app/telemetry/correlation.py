"""The invocation's correlation id, readable from anywhere in the handler's code.

A ``ContextVar`` rather than a global so that threads a handler starts with
``contextvars.copy_context()`` (and any asyncio task) see the id of the
invocation that started them.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("sagawatch_correlation_id", default=None)


def current_correlation_id() -> str | None:
    """The correlation id of the invocation in progress; None outside one."""
    return _current.get()


def set_correlation_id(value: str | None) -> Token[str | None]:
    return _current.set(value)


def reset_correlation_id(token: Token[str | None]) -> None:
    _current.reset(token)
