"""The body of POST /customers: the handler's model, the gatekeeper's model, and how answers map."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from instrumented_app.sagas.answers import http_status
from instrumented_app.sagas.customer import saga_id_for_key
from instrumented_app.sagas.customer_input import NewCustomer, json_schema_for_api
from instrumented_app.sagas.records import SagaRecord, StepRecord
from sagawatch.contracts import SagaState, SagaStatus, StepStatus

TEMPLATE = Path(__file__).resolve().parents[3] / "instrumented_app" / "template.yaml"
GOOD: dict[str, Any] = {
    "cust_no": "C0001",
    "name": {"family": "Sato", "given": "Hana"},
    "email": "hana@example.com",
    "phone": "+819012345678",
}


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub ...) as plain values."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def api_model() -> dict[str, Any]:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_TemplateLoader)
    model: dict[str, Any] = template["Resources"]["AppApi"]["Properties"]["Models"]["CustomerRequest"]
    return model


def test_the_gatekeepers_model_is_the_handlers_model() -> None:
    assert api_model() == json_schema_for_api()


BAD_BODIES = [
    ({k: v for k, v in GOOD.items() if k != "cust_no"}, "cust_no"),
    ({**GOOD, "cust_no": "has spaces"}, "cust_no"),
    ({**GOOD, "email": "not-an-email"}, "email"),
    ({**GOOD, "phone": "090-1234"}, "phone"),
    ({**GOOD, "name": {"family": "Sato"}}, "name"),
    ({**GOOD, "surprise": 1}, "surprise"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_BODIES)
def test_both_models_refuse_the_same_bad_bodies_naming_the_field(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        NewCustomer.model_validate(bad)
    assert field in str(raised.value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(json_schema_for_api()).validate(bad)


def test_a_good_body_passes_both() -> None:
    assert NewCustomer.model_validate(GOOD).name.full == "Sato Hana"
    jsonschema.Draft4Validator(json_schema_for_api()).validate(GOOD)


def record(status: SagaStatus, failed_error: str | None = None) -> SagaRecord:
    now = datetime.now(UTC)
    state = SagaState(
        id="s", type="customer", correlation_id="c", status=status, started_at=now, updated_at=now
    )
    step = StepRecord(
        saga_id="s",
        name="commerce_customer",
        seq=0,
        status=StepStatus.FAILED if failed_error else StepStatus.SUCCEEDED,
        idempotency_key="s:commerce_customer:do",
        compensation_key="s:commerce_customer:compensate",
        error=failed_error,
    )
    return SagaRecord(state=state, steps=[step], failed_step="commerce_customer" if failed_error else None)


def test_answers_are_201_on_success_409_on_a_refusal_and_502_on_an_outage() -> None:
    assert http_status(record(SagaStatus.SUCCEEDED)) == 201
    assert http_status(record(SagaStatus.COMPENSATED, "[SAAS_REJECTED] commerce: HTTP 422")) == 409
    assert http_status(record(SagaStatus.COMPENSATED, "[CUSTOMER_EXISTS] cust_no C1 already exists")) == 409
    assert http_status(record(SagaStatus.COMPENSATED, "[SAAS_UNAVAILABLE] commerce: HTTP 503")) == 502
    assert http_status(record(SagaStatus.FAILED, "something unexpected")) == 502


def test_a_requests_key_names_one_saga() -> None:
    assert saga_id_for_key("k-1") == saga_id_for_key("k-1")
    assert saga_id_for_key("k-1") != saga_id_for_key("k-2")
