"""The customer saga: Aurora row -> support user -> commerce customer -> membership -> activate.

Each SaaS step looks for the record by the cust_no first (support
``external_id``, commerce ``multipass_identifier``, membership ``member_no``)
and creates it only when absent, under the step's idempotency key: a resumed
saga, or a retry after a timeout whose write did land, never makes a second
record. Compensations find records the same way and delete them; "already
gone" is success.

A create whose outcome is unknown (no answer) may still be running at the
SaaS when its compensation starts, and land after the search. So the
compensation of such a step first sends the create again under its own key:
the SaaS answers with what the first made, makes it now, or refuses while the
first still runs (409: the compensation fails and is tried again). After
that, no write with that key can land behind the search.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from instrumented_app.saas_clients import (
    CommerceCustomerInput,
    MemberInput,
    SaasClients,
    SaasRejected,
    SupportUserInput,
)
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.sagas.customer_rows import CustomerRows
from instrumented_app.sagas.definition import SagaDefinition, Step, StepContext, step_keys

SAGA_TYPE = "customer"
#: A customer saga still live this long after it started is stuck, however busy it looks.
DEADLINE_S = 15 * 60


#: Namespace of the saga ids derived from a request's Idempotency-Key.
_KEYED_SAGAS = uuid.UUID("6f1d2c3e-8a4b-5c6d-9e0f-1a2b3c4d5e6f")


def saga_id_for_key(idempotency_key: str) -> str:
    """The saga id of the request carrying ``idempotency_key``: the same key always names the same saga."""
    return str(uuid.uuid5(_KEYED_SAGAS, f"customer:{idempotency_key}"))


def customer_of(ctx: StepContext) -> NewCustomer:
    """The saga's input, as stored in ``saga.payload`` (``{"cust_no": ..., "customer": {...}}``)."""
    return NewCustomer.model_validate(ctx.payload["customer"])


def payload_for(customer: NewCustomer) -> dict[str, Any]:
    """``cust_no`` at the top, where the reconciler reads in-flight keys from."""
    return {"cust_no": customer.cust_no, "customer": customer.model_dump(mode="json")}


#: HTTP status of a write refused because the first request with its key is still running.
IN_FLIGHT = 409


def settle_unknown_create(ctx: StepContext, create: Callable[[str], object]) -> None:
    """Before compensating a step whose create got no answer (``ctx.result`` is None), send the create
    again under the step's forward key, so that the first can no longer land after the search."""
    if ctx.result is not None:
        return  # the create answered: nothing of it is still on its way
    forward_key, _ = step_keys(ctx.saga_id, ctx.step)
    try:
        create(forward_key)
    except SaasRejected as exc:
        if exc.status == IN_FLIGHT:
            raise  # the first is still running: this compensation attempt fails and is tried again
        # Refused outright: the first did not write either (its kept answer would have come back).


class CustomerSagaSteps:
    """The step callables, bound to one Aurora connection's rows and one set of SaaS clients."""

    def __init__(self, rows: CustomerRows, clients: SaasClients) -> None:
        self.rows = rows
        self.clients = clients

    def create_row(self, ctx: StepContext) -> dict[str, Any]:
        customer = customer_of(ctx)
        self.rows.insert_pending(customer, ctx.saga_id)
        return {"cust_no": customer.cust_no}

    def delete_row(self, ctx: StepContext) -> None:
        self.rows.mark_deleted(customer_of(ctx).cust_no, ctx.saga_id)

    def create_support_user(self, ctx: StepContext) -> dict[str, Any]:
        customer = customer_of(ctx)
        support = self.clients.support
        user = support.find_by_external_id(customer.cust_no) or support.create_user(
            _support_user(customer), idempotency_key=ctx.idempotency_key
        )
        return {"support_user_id": user.id}

    def delete_support_user(self, ctx: StepContext) -> None:
        support = self.clients.support
        customer = customer_of(ctx)
        settle_unknown_create(
            ctx, lambda key: support.create_user(_support_user(customer), idempotency_key=key)
        )
        user = support.find_by_external_id(customer.cust_no)
        if user is not None:
            support.delete_user(user.id, idempotency_key=f"{ctx.idempotency_key}:{user.id}")

    def create_commerce_customer(self, ctx: StepContext) -> dict[str, Any]:
        customer = customer_of(ctx)
        commerce = self.clients.commerce
        found = commerce.find_by_multipass(customer.cust_no)
        created = found[0] if found else None
        if created is None:
            created = commerce.create_customer(
                _commerce_customer(customer), idempotency_key=ctx.idempotency_key
            )
        return {"commerce_customer_id": created.id}

    def delete_commerce_customer(self, ctx: StepContext) -> None:
        commerce = self.clients.commerce
        customer = customer_of(ctx)
        settle_unknown_create(
            ctx, lambda key: commerce.create_customer(_commerce_customer(customer), idempotency_key=key)
        )
        for found in commerce.find_by_multipass(customer.cust_no):
            commerce.delete_customer(found.id, idempotency_key=f"{ctx.idempotency_key}:{found.id}")

    def create_member(self, ctx: StepContext) -> dict[str, Any]:
        customer = customer_of(ctx)
        membership = self.clients.membership
        member = membership.find_by_member_no(customer.cust_no) or membership.create_member(
            _member(customer), idempotency_key=ctx.idempotency_key
        )
        return {"member_id": member.id}

    def delete_member(self, ctx: StepContext) -> None:
        membership = self.clients.membership
        customer = customer_of(ctx)
        settle_unknown_create(
            ctx, lambda key: membership.create_member(_member(customer), idempotency_key=key)
        )
        member = membership.find_by_member_no(customer.cust_no)
        if member is not None:
            membership.delete_member(member.id, idempotency_key=f"{ctx.idempotency_key}:{member.id}")

    def activate(self, ctx: StepContext) -> None:
        self.rows.activate(customer_of(ctx).cust_no, ctx.saga_id)


def _support_user(customer: NewCustomer) -> SupportUserInput:
    """The support user of a customer: one builder, so a create sent again has the same body."""
    return SupportUserInput(
        name=customer.name.full, email=customer.email, phone=customer.phone, external_id=customer.cust_no
    )


def _commerce_customer(customer: NewCustomer) -> CommerceCustomerInput:
    return CommerceCustomerInput(
        first_name=customer.name.given,
        last_name=customer.name.family,
        email=customer.email,
        phone=customer.phone,
        multipass_identifier=customer.cust_no,
    )


def _member(customer: NewCustomer) -> MemberInput:
    return MemberInput(
        member_no=customer.cust_no, full_name=customer.name.full, email=customer.email, phone=customer.phone
    )


def customer_saga(rows: CustomerRows, clients: SaasClients) -> SagaDefinition:
    steps = CustomerSagaSteps(rows, clients)
    return SagaDefinition(
        saga_type=SAGA_TYPE,
        deadline_s=DEADLINE_S,
        steps=(
            Step("aurora_customer", steps.create_row, steps.delete_row),
            Step("support_user", steps.create_support_user, steps.delete_support_user),
            Step("commerce_customer", steps.create_commerce_customer, steps.delete_commerce_customer),
            Step("membership", steps.create_member, steps.delete_member),
            Step("activate", steps.activate),
        ),
    )
