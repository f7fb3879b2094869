"""Zendesk's error vocabulary: ``RecordNotFound`` (404), ``RecordInvalid`` (422), bad requests (400)."""

from __future__ import annotations


class SupportError(Exception):
    """An error in Zendesk's body shape: ``{"error": ..., "description": ..., ["details": ...]}``."""

    status = 400
    error = "InvalidValue"

    def __init__(self, description: str, details: dict[str, list[dict[str, str]]] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details = details

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.error, "description": self.description}
        if self.details:
            body["details"] = self.details
        return body


class RecordNotFound(SupportError):
    status = 404
    error = "RecordNotFound"

    def __init__(self) -> None:
        super().__init__("Not found")


class RecordInvalid(SupportError):
    """Validation failed; ``details`` maps each field to what is wrong with it."""

    status = 422
    error = "RecordInvalid"

    def __init__(self, field: str, problem: str, code: str) -> None:
        super().__init__(
            "Record validation errors",
            {field: [{"description": f"{field.replace('_', ' ').capitalize()}: {problem}", "error": code}]},
        )
        self.field = field


class InvalidParameter(SupportError):
    """A query parameter or body that cannot be read; the description names it."""

    status = 400
    error = "InvalidValue"
