"""Errors of the member API, all shaped ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations


class MembershipError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class MemberNotFound(MembershipError):
    status = 404
    code = "not_found"

    def __init__(self, member_id: str) -> None:
        super().__init__(f"member {member_id} does not exist")


class MemberConflict(MembershipError):
    """A unique field (``member_no``) already held by another member."""

    status = 409
    code = "conflict"


class InvalidMember(MembershipError):
    """A field with a value the API refuses (422)."""

    status = 422
    code = "invalid"


class BadRequest(MembershipError):
    """A body or parameter that cannot be read (400)."""
