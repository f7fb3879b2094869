"""The API front's model of ``POST /api/async`` and the handler's pydantic model agree."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator

from instrumented_app.jobs.requests import RequestInvalid, json_schema_for_api, parse_request
from instrumented_app.runtime.template import APP_TEMPLATE, load_sam_template, translated_template

GOOD: dict[str, Any] = {"kind": "sync_member", "cust_no": "C0001", "payload": {"full_name": "Hanako Yamada"}}
CUSTOMER: dict[str, Any] = {
    "kind": "create_customer",
    "cust_no": "C0002",
    "payload": {"name": {"family": "Yamada", "given": "Hanako"}, "email": "hanako@example.com"},
}


def template_model() -> dict[str, Any]:
    model: dict[str, Any] = load_sam_template(APP_TEMPLATE)["Resources"]["AppApi"]["Properties"]["Models"][
        "AsyncJobRequest"
    ]
    return model


def test_the_templates_model_is_the_handlers_model() -> None:
    assert template_model() == json_schema_for_api()


def test_the_api_validates_post_api_async_bodies_against_it() -> None:
    body = translated_template(APP_TEMPLATE, "us-east-1")["Resources"]["AppApi"]["Properties"]["Body"]
    post = body["paths"]["/api/async"]["post"]
    assert post["x-amazon-apigateway-request-validator"]
    (parameter,) = [p for p in post["parameters"] if p.get("in") == "body"]
    assert parameter["schema"]["$ref"].lower().endswith("/asyncjobrequest")  # SAM lower-cases the name


@pytest.mark.parametrize(
    "body",
    [
        GOOD,
        {
            **GOOD,
            "payload": {"full_name": "A", "email": "a@example.com", "phone": "+8190", "status": "active"},
        },
        {**GOOD, "cust_no": "bad no"},
        {**GOOD, "cust_no": "C" * 65},
        {**GOOD, "kind": "other"},
        {k: v for k, v in GOOD.items() if k != "payload"},
        {**GOOD, "payload": {}},
        {**GOOD, "payload": {"full_name": ""}},
        {**GOOD, "payload": {"full_name": "A", "status": "gone"}},
        {**GOOD, "payload": {"full_name": "A", "extra": 1}},
        {**GOOD, "extra": 1},
        {**GOOD, "cust_no": 1234},
        CUSTOMER,
        {**CUSTOMER, "payload": {**CUSTOMER["payload"], "phone": "+81312345678"}},
        {**CUSTOMER, "payload": {**CUSTOMER["payload"], "phone": "03-1234-5678"}},
        {**CUSTOMER, "payload": {**CUSTOMER["payload"], "email": "not-an-email"}},
        {**CUSTOMER, "payload": {"name": {"family": "Yamada"}, "email": "h@example.com"}},
    ],
)
def test_the_front_and_the_handler_accept_and_refuse_the_same_bodies(body: dict[str, Any]) -> None:
    front_accepts = Draft4Validator(json_schema_for_api()).is_valid(body)
    try:
        parse_request(body)
        handler_accepts = True
    except RequestInvalid:
        handler_accepts = False
    assert front_accepts == handler_accepts


def test_a_payload_of_the_other_kind_passes_the_front_but_not_the_handler() -> None:
    """Draft 4 cannot tie the payload to the kind: the handler refuses the mismatch, naming the field."""
    mismatched = {**GOOD, "payload": CUSTOMER["payload"]}
    assert Draft4Validator(json_schema_for_api()).is_valid(mismatched)
    with pytest.raises(RequestInvalid) as caught:
        parse_request(mismatched)
    assert "payload.full_name" in [field for field, _ in caught.value.problems]
