"""The body of ``POST /customers``: the same rules as the API's model, checked again in the handler.

The API front refuses a bad body before the Lambda runs (the gatekeeper); the
handler still validates, because on AWS a route can be deployed without its
validator, and a saga must never start from half a customer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

CUST_NO_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class PersonName(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    family: str = Field(min_length=1, max_length=100)
    given: str = Field(min_length=1, max_length=100)

    @property
    def full(self) -> str:
        """Family name first, as the customer master (a Japanese one) writes it."""
        return f"{self.family} {self.given}"


class NewCustomer(BaseModel):
    """``{"cust_no": "C0001", "name": {"family": ..., "given": ...}, "email": ..., "phone": "+81..."}``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    cust_no: str = Field(pattern=CUST_NO_PATTERN)
    name: PersonName
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)


def json_schema_for_api() -> dict[str, object]:
    """The API Gateway model (JSON Schema draft 4 subset) matching ``NewCustomer``; the template's
    model is checked against this in the unit tests, so the two cannot drift apart."""
    name = {
        "type": "object",
        "required": ["family", "given"],
        "properties": {
            "family": {"type": "string", "minLength": 1, "maxLength": 100},
            "given": {"type": "string", "minLength": 1, "maxLength": 100},
        },
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "required": ["cust_no", "name", "email"],
        "properties": {
            "cust_no": {"type": "string", "pattern": CUST_NO_PATTERN},
            "name": name,
            "email": {"type": "string", "pattern": EMAIL_PATTERN, "maxLength": 254},
            "phone": {"type": "string", "pattern": PHONE_PATTERN},
        },
        "additionalProperties": False,
    }
