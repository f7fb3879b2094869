"""What a client may ask for: one request model per job kind, told apart by ``kind``.

``parse_request`` is the one door: the API handler, the worker (on each queued
message) and the idempotency layer all read a request through it, and its
errors name the field in the body (``payload.name.family``), never the value.
``json_schema_for_api`` is the same rules as the API front's model; draft 4
cannot tie a payload's shape to the ``kind``, so the front checks the envelope
and that the payload is one of the shapes, and the handler checks the pairing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from instrumented_app.sagas.customer_input import (
    CUST_NO_PATTERN,
    EMAIL_PATTERN,
    PHONE_PATTERN,
    NewCustomer,
    PersonName,
)
from instrumented_app.sagas.customer_input import (
    json_schema_for_api as customer_schema_for_api,
)

MAX_FULL_NAME = 200
MAX_EMAIL = 320
MAX_PHONE = 32

CustNo = Annotated[str, StringConstraints(pattern=CUST_NO_PATTERN)]
MemberStatus = Literal["active", "suspended", "cancelled"]


class MemberPayload(BaseModel):
    """``sync_member``: the member ``cust_no`` in the membership SaaS, created or updated."""

    model_config = ConfigDict(extra="forbid")

    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FULL_NAME)
    ]
    email: Annotated[str, StringConstraints(max_length=MAX_EMAIL)] | None = None
    phone: Annotated[str, StringConstraints(max_length=MAX_PHONE)] | None = None
    status: MemberStatus | None = None


class CustomerPayload(BaseModel):
    """``create_customer``: the customer saga's input (as ``POST /customers`` takes it) minus ``cust_no``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: PersonName
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)

    def customer(self, cust_no: str) -> NewCustomer:
        return NewCustomer(cust_no=cust_no, name=self.name, email=self.email, phone=self.phone)


class SyncMemberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["sync_member"]
    cust_no: CustNo
    payload: MemberPayload


class CreateCustomerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["create_customer"]
    cust_no: CustNo
    payload: CustomerPayload


#: The body of ``POST /api/async``.
JobRequest = Annotated[SyncMemberRequest | CreateCustomerRequest, Field(discriminator="kind")]
#: The kinds of work a job can do; each names an action in ``instrumented_app.jobs.actions``.
JobKind = Literal["sync_member", "create_customer"]
KINDS: tuple[str, ...] = get_args(JobKind)

_REQUESTS: TypeAdapter[SyncMemberRequest | CreateCustomerRequest] = TypeAdapter(JobRequest)


class RequestInvalid(ValueError):
    """A request that does not hold; ``problems`` is ``[(field, problem), ...]``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems))
        self.problems = problems


def parse_request(document: Any) -> SyncMemberRequest | CreateCustomerRequest:
    """The request in ``document``, or ``RequestInvalid`` naming each bad field."""
    try:
        return _REQUESTS.validate_python(document)
    except ValidationError as exc:
        raise RequestInvalid([_problem(error) for error in exc.errors()]) from exc


def _problem(error: Any) -> tuple[str, str]:
    location = [str(part) for part in error["loc"]]
    if location and location[0] in KINDS:  # the union's branch, not a field of the body
        location = location[1:]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "kind", f"must be one of {', '.join(KINDS)}"
    return ".".join(location) or "body", str(error["msg"])


def json_schema_for_api() -> dict[str, Any]:
    """The API Gateway model (JSON Schema draft 4) of ``POST /api/async``; the template's
    ``AsyncJobRequest`` is checked against this in the unit tests."""
    member = {
        "type": "object",
        "required": ["full_name"],
        "properties": {
            "full_name": {"type": "string", "minLength": 1, "maxLength": MAX_FULL_NAME},
            "email": {"type": "string", "maxLength": MAX_EMAIL},
            "phone": {"type": "string", "maxLength": MAX_PHONE},
            "status": {"type": "string", "enum": list(get_args(MemberStatus))},
        },
        "additionalProperties": False,
    }
    customer: dict[str, Any] = cast(dict[str, Any], customer_schema_for_api())
    customer_payload = {  # the saga's own model, without the cust_no that the envelope carries
        "type": "object",
        "required": [name for name in customer["required"] if name != "cust_no"],
        "properties": {name: rule for name, rule in customer["properties"].items() if name != "cust_no"},
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "required": ["kind", "cust_no", "payload"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "cust_no": {"type": "string", "pattern": CUST_NO_PATTERN},
            "payload": {"oneOf": [member, customer_payload]},
        },
        "additionalProperties": False,
    }
