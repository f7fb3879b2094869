"""Shopify's error shapes: ``{"errors": "Not Found"}`` and ``{"errors": {field: [problem, ...]}}``."""

from __future__ import annotations


class CommerceError(Exception):
    status = 400

    def __init__(self, errors: str | dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors

    def body(self) -> dict[str, object]:
        return {"errors": self.errors}


class NotFound(CommerceError):
    status = 404

    def __init__(self) -> None:
        super().__init__("Not Found")


class Unprocessable(CommerceError):
    """Validation failed (422); ``errors`` maps each field to its problems."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)


class BadRequest(CommerceError):
    """A parameter that cannot be read (400), named in ``errors``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__({field: [problem]})
