"""The member merge saga (名寄せ): customers ``merge`` folded into ``target`` in Aurora and every SaaS.

Steps, in order (each idempotent under its key, each finding records by cust_no first):

1. ``claim``            Aurora: the losers are claimed for this merge (``customer_merge``), and a
                        before-snapshot of every record involved is kept as the step's result.
2. ``support_target``   the target has its support user (made from its Aurora row if missing).
3. ``commerce_target``  the target has its commerce customer (likewise).
4. ``membership_target`` the target has its membership member (likewise).
5. ``support_losers``   the losers' support users are deleted.   <- point of no return
6. ``commerce_losers``  the losers' commerce customers are deleted.
7. ``membership_losers`` the losers' members are deleted (else the reconciler finds them orphaned).
8. ``retire_losers``    Aurora: the losers' rows are DELETED, their claims MERGED.

Steps 1-4 have compensations (release the claim; delete a target record only if this saga made it).
From step 5 on, a deleted SaaS record cannot be brought back as it was (its id, its history), so a
failure there is not compensated: the saga goes to ``MANUAL_INTERVENTION`` and ``on_finish`` writes a
runbook entry (what was done, what remains, the exact commands to finish or undo), a before/after
diff and an audit log entry. ``sagawatch saga resume ID`` continues it forward and resolves the entry.

The payload carries ``cust_nos`` (target first), which the reconciler reads to defer in-flight keys.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from instrumented_app.saas_clients import CommerceCustomerInput, MemberInput, SaasClients, SupportUserInput
from instrumented_app.sagas.definition import SagaDefinition, Step, StepContext
from instrumented_app.sagas.engine import SagaEngine
from instrumented_app.sagas.member_merge_store import CustomerRow, MergeRefused, MergeStore, RunbookEntry
from instrumented_app.sagas.records import SagaRecord
from sagawatch.contracts import SagaStatus, StepStatus

SAGA_TYPE = "member_merge"
DEADLINE_S = 15 * 60
POINT_OF_NO_RETURN = "support_losers"
CUST_NO = r"^[A-Za-z0-9_-]{1,64}$"
#: What each step does, as the runbook says it.
DESCRIPTIONS = {
    "claim": "claim the losing customers in Aurora (customer_merge) and snapshot every record",
    "support_target": "make sure the target has its support user",
    "commerce_target": "make sure the target has its commerce customer",
    "membership_target": "make sure the target has its membership member",
    "support_losers": "delete the losing customers' support users",
    "commerce_losers": "delete the losing customers' commerce customers",
    "membership_losers": "delete the losing customers' membership members",
    "retire_losers": "mark the losing customers' Aurora rows DELETED and their claims MERGED",
}


class MergeFaults(BaseModel):
    """Test-only: fail ``fail_at`` on the saga's first ``times`` runs (a resume is a later run)."""

    model_config = ConfigDict(extra="forbid")

    fail_at: str
    times: int = Field(default=1, ge=1, le=10)

    @model_validator(mode="after")
    def _known_step(self) -> MergeFaults:
        if self.fail_at not in DESCRIPTIONS:
            raise ValueError(f"fail_at: unknown step {self.fail_at!r} (one of {', '.join(DESCRIPTIONS)})")
        return self


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(pattern=CUST_NO, description="The customer that stays.")
    merge: list[str] = Field(min_length=1, max_length=10, description="Customers folded into the target.")
    faults: MergeFaults | None = None

    @model_validator(mode="after")
    def _distinct(self) -> MergeRequest:
        for cust_no in self.merge:
            if not re.match(CUST_NO, cust_no):
                raise ValueError(f"merge: {cust_no!r} is not a cust_no")
        if len(set(self.merge)) != len(self.merge):
            raise ValueError("merge: a cust_no appears twice")
        if self.target in self.merge:
            raise ValueError(f"merge: the target {self.target} cannot be merged into itself")
        return self


class InjectedFault(Exception):
    error_code = "MERGE_FAULT_INJECTED"


def payload_for(request: MergeRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "cust_nos": [request.target, *request.merge],
        "target": request.target,
        "losers": list(request.merge),
    }
    if request.faults is not None:
        payload["faults"] = request.faults.model_dump()
    return payload


def snapshot(store: MergeStore, clients: SaasClients, cust_nos: list[str]) -> dict[str, dict[str, Any]]:
    """Ids and statuses of every record of each cust_no, per system (no names, emails or phones)."""
    rows = store.customers(cust_nos)
    shot: dict[str, dict[str, Any]] = {}
    for cust_no in cust_nos:
        user = clients.support.find_by_external_id(cust_no)
        member = clients.membership.find_by_member_no(cust_no)
        shot[cust_no] = {
            "aurora": rows[cust_no].status if cust_no in rows else None,
            "support": user.id if user else None,
            "commerce": sorted(c.id for c in clients.commerce.find_by_multipass(cust_no)),
            "membership": member.id if member else None,
        }
    return shot


def diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What changed, one entry per cust_no and system: ``{"cust_no", "system", "before", "after"}``."""
    changes = []
    for cust_no in sorted(set(before) | set(after)):
        old, new = before.get(cust_no, {}), after.get(cust_no, {})
        for system in sorted(set(old) | set(new)):
            if old.get(system) != new.get(system):
                changes.append(
                    {
                        "cust_no": cust_no,
                        "system": system,
                        "before": old.get(system),
                        "after": new.get(system),
                    }
                )
    return changes


def runbook_for(record: SagaRecord, changes: list[dict[str, Any]]) -> RunbookEntry:
    """The runbook entry of a merge stopped past its point of no return."""
    saga_id = record.state.id
    done = [
        {"step": s.name, "what": DESCRIPTIONS.get(s.name, s.name), "result": s.result}
        for s in record.steps
        if s.status is StepStatus.SUCCEEDED
    ]
    remaining = [
        {"step": s.name, "what": DESCRIPTIONS.get(s.name, s.name), "status": s.status.value, "error": s.error}
        for s in record.steps
        if s.status is not StepStatus.SUCCEEDED
    ]
    losers = list(record.payload.get("losers", []))
    quoted = ", ".join(f"'{k}'" for k in losers)
    # Undo brings the losers back from Aurora, which still holds their rows: release the claims, then
    # the reconciler re-creates their SaaS records (with new ids: the deleted ones cannot come back).
    # ``--key-to L-`` ends the range just after L: "-" is the smallest character a cust_no may hold.
    reconcile = [f"sagawatch reconcile --full --apply --key-from {k} --key-to {k}-" for k in losers]
    return RunbookEntry(
        saga_id=saga_id,
        saga_type=record.state.type,
        failed_step=record.failed_step,
        error=record.state.last_error,
        done=done,
        remaining=remaining,
        commands={
            "inspect": [f"sagawatch saga show {saga_id}", f"sagawatch saga runbook {saga_id}"],
            "finish": [f"sagawatch saga resume {saga_id}"],
            "undo": [
                f'psql "$DATABASE_URL" -c "UPDATE customer SET status = \'ACTIVE\', updated_at = now()'
                f" WHERE cust_no IN ({quoted}); DELETE FROM customer_merge WHERE saga_id = '{saga_id}'\"",
                *reconcile,
            ],
        },
        diff=changes,
    )


class MemberMergeSteps:
    def __init__(self, store: MergeStore, clients: SaasClients) -> None:
        self.store = store
        self.clients = clients

    def _fault(self, ctx: StepContext) -> None:
        raw = ctx.payload.get("faults")
        if raw:
            faults = MergeFaults.model_validate(raw)
            if faults.fail_at == ctx.step and ctx.attempt <= faults.times:
                raise InjectedFault(f"{ctx.step}: injected failure (run {ctx.attempt} of saga {ctx.saga_id})")

    def _target_row(self, ctx: StepContext) -> CustomerRow:
        target = str(ctx.payload["target"])
        row = self.store.customers([target]).get(target)
        if row is None or row.status != "ACTIVE":
            raise MergeRefused(f"target {target} is not an active customer")
        return row

    def claim(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        cust_nos = list(ctx.payload["cust_nos"])
        rows = self.store.customers(cust_nos)
        inactive = [c for c in cust_nos if c not in rows or rows[c].status != "ACTIVE"]
        if inactive and ctx.result is None:
            raise MergeRefused(f"not active customers: {', '.join(inactive)}")
        before = snapshot(self.store, self.clients, cust_nos)
        self.store.claim(list(ctx.payload["losers"]), str(ctx.payload["target"]), ctx.saga_id)
        return {"before": before}

    def release(self, ctx: StepContext) -> None:
        self.store.release(ctx.saga_id)

    def support_target(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        row = self._target_row(ctx)
        support = self.clients.support
        found = support.find_by_external_id(row.cust_no)
        if found is not None:
            return {"support_user_id": found.id, "created": False}
        user = support.create_user(
            SupportUserInput(name=row.full_name, email=row.email, phone=row.phone, external_id=row.cust_no),
            idempotency_key=ctx.idempotency_key,
        )
        return {"support_user_id": user.id, "created": True}

    def undo_support_target(self, ctx: StepContext) -> None:
        if ctx.result and ctx.result.get("created"):
            user_id = int(ctx.result["support_user_id"])
            self.clients.support.delete_user(user_id, idempotency_key=f"{ctx.idempotency_key}:{user_id}")

    def commerce_target(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        row = self._target_row(ctx)
        commerce = self.clients.commerce
        found = commerce.find_by_multipass(row.cust_no)
        if found:
            return {"commerce_customer_id": found[0].id, "created": False}
        created = commerce.create_customer(
            CommerceCustomerInput(
                first_name=row.given_name,
                last_name=row.family_name,
                email=row.email,
                phone=row.phone,
                multipass_identifier=row.cust_no,
            ),
            idempotency_key=ctx.idempotency_key,
        )
        return {"commerce_customer_id": created.id, "created": True}

    def undo_commerce_target(self, ctx: StepContext) -> None:
        if ctx.result and ctx.result.get("created"):
            customer_id = int(ctx.result["commerce_customer_id"])
            self.clients.commerce.delete_customer(
                customer_id, idempotency_key=f"{ctx.idempotency_key}:{customer_id}"
            )

    def membership_target(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        row = self._target_row(ctx)
        membership = self.clients.membership
        found = membership.find_by_member_no(row.cust_no)
        if found is not None:
            return {"member_id": found.id, "created": False}
        member = membership.create_member(
            MemberInput(member_no=row.cust_no, full_name=row.full_name, email=row.email, phone=row.phone),
            idempotency_key=ctx.idempotency_key,
        )
        return {"member_id": member.id, "created": True}

    def undo_membership_target(self, ctx: StepContext) -> None:
        if ctx.result and ctx.result.get("created"):
            member_id = str(ctx.result["member_id"])
            self.clients.membership.delete_member(
                member_id, idempotency_key=f"{ctx.idempotency_key}:{member_id}"
            )

    def support_losers(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        deleted = []
        for loser in ctx.payload["losers"]:
            user = self.clients.support.find_by_external_id(loser)
            if user is not None:
                self.clients.support.delete_user(user.id, idempotency_key=f"{ctx.idempotency_key}:{user.id}")
                deleted.append(user.id)
        return {"deleted_support_user_ids": deleted}

    def commerce_losers(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        deleted = []
        for loser in ctx.payload["losers"]:
            for found in self.clients.commerce.find_by_multipass(loser):
                self.clients.commerce.delete_customer(
                    found.id, idempotency_key=f"{ctx.idempotency_key}:{found.id}"
                )
                deleted.append(found.id)
        return {"deleted_commerce_customer_ids": deleted}

    def membership_losers(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        deleted = []
        for loser in ctx.payload["losers"]:
            member = self.clients.membership.find_by_member_no(loser)
            if member is not None:
                self.clients.membership.delete_member(
                    member.id, idempotency_key=f"{ctx.idempotency_key}:{member.id}"
                )
                deleted.append(member.id)
        return {"deleted_member_ids": deleted}

    def retire_losers(self, ctx: StepContext) -> dict[str, Any]:
        self._fault(ctx)
        return {"rows_retired": self.store.retire(list(ctx.payload["losers"]), ctx.saga_id)}

    def finish(self, record: SagaRecord) -> None:
        """After every run: the diff and an audit entry; a runbook entry opened or resolved."""
        status = record.state.status
        before = (record.step("claim").result or {}).get("before")
        after = snapshot(self.store, self.clients, list(record.payload.get("cust_nos", [])))
        changes = diff(before, after) if before is not None else []
        if status is SagaStatus.MANUAL_INTERVENTION:
            self.store.open_runbook(runbook_for(record, changes))
            event = "merge stopped: manual intervention needed"
        elif status is SagaStatus.SUCCEEDED:
            event = "merge finished" + (
                " (runbook resolved)" if self.store.resolve_runbook(record.state.id) else ""
            )
        elif status is SagaStatus.COMPENSATED:  # undone: nothing is left for a person to finish
            event = "merge ended COMPENSATED" + (
                " (runbook resolved)" if self.store.resolve_runbook(record.state.id) else ""
            )
        else:
            event = f"merge ended {status.value}"
        self.store.audit(
            saga_id=record.state.id,
            saga_type=record.state.type,
            correlation_id=record.state.correlation_id,
            event=event,
            status=status.value,
            detail={
                "cust_nos": record.payload.get("cust_nos"),
                "failed_step": record.failed_step,
                "diff": changes,
            },
        )


def member_merge_saga(store: MergeStore, clients: SaasClients) -> SagaDefinition:
    steps = MemberMergeSteps(store, clients)
    return SagaDefinition(
        saga_type=SAGA_TYPE,
        deadline_s=DEADLINE_S,
        point_of_no_return=POINT_OF_NO_RETURN,
        on_finish=steps.finish,
        steps=(
            Step("claim", steps.claim, steps.release),
            Step("support_target", steps.support_target, steps.undo_support_target),
            Step("commerce_target", steps.commerce_target, steps.undo_commerce_target),
            Step("membership_target", steps.membership_target, steps.undo_membership_target),
            Step("support_losers", steps.support_losers),
            Step("commerce_losers", steps.commerce_losers),
            Step("membership_losers", steps.membership_losers),
            Step("retire_losers", steps.retire_losers),
        ),
    )


def create_member_merge(
    engine: SagaEngine, definition: SagaDefinition, request: MergeRequest, correlation_id: str
) -> str:
    """Record a new merge saga (PENDING); the caller runs it (``SagaRunner.resume``). Its id."""
    saga_id = str(uuid.uuid4())
    engine.create(definition, saga_id=saga_id, correlation_id=correlation_id, payload=payload_for(request))
    return saga_id
