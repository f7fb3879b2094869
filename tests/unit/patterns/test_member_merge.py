"""The member merge saga's rules without I/O: the point of no return in the engine, the request, the diff
and the runbook a person gets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from instrumented_app.sagas.definition import SagaDefinition
from instrumented_app.sagas.engine import SagaEngine
from instrumented_app.sagas.member_merge import MergeRequest, diff, payload_for, runbook_for
from sagawatch.contracts import SagaStatus, StepStatus
from tests.unit.sagas.fakes import NAMES, MemoryStore, World


def _engine(store: MemoryStore) -> SagaEngine:
    return SagaEngine(store, sleep=lambda _: None, now=lambda: datetime(2026, 1, 1, tzinfo=UTC))


def _definition(world: World, finished: list[SagaStatus]) -> SagaDefinition:
    return SagaDefinition(
        "merge-test",
        tuple(world.step(name) for name in NAMES),
        point_of_no_return="c",
        on_finish=lambda record: finished.append(record.state.status),
    )


def test_a_failure_before_the_point_of_no_return_is_compensated() -> None:
    world, store, finished = World(), MemoryStore(), []  # type: ignore[var-annotated]
    definition = _definition(world, finished)
    world.fail["b"] = RuntimeError("support down")
    engine = _engine(store)
    engine.create(definition, saga_id="s1", correlation_id="c1", payload={"cust_nos": ["A", "B"]})
    record = engine.run(definition, "s1")
    assert record.state.status is SagaStatus.COMPENSATED
    assert world.directions("undo") == ["b", "a"]
    assert finished == [SagaStatus.COMPENSATED]


def test_a_failure_past_the_point_of_no_return_waits_for_a_person_and_resume_goes_forward() -> None:
    world, store, finished = World(), MemoryStore(), []  # type: ignore[var-annotated]
    definition = _definition(world, finished)
    world.fail["d"] = RuntimeError("commerce down")
    engine = _engine(store)
    engine.create(definition, saga_id="s2", correlation_id="c2", payload={"cust_nos": ["A", "B"]})
    stopped = engine.run(definition, "s2")
    assert stopped.state.status is SagaStatus.MANUAL_INTERVENTION
    assert stopped.failed_step == "d"
    assert world.directions("undo") == []  # nothing undone: "c" cannot be
    assert [s.status for s in stopped.steps] == [StepStatus.SUCCEEDED] * 3 + [StepStatus.FAILED]

    del world.fail["d"]
    finished_run = engine.run(definition, "s2")
    assert finished_run.state.status is SagaStatus.SUCCEEDED
    assert world.directions("do") == ["a", "b", "c", "d", "d"]  # done steps are not redone
    assert finished == [SagaStatus.MANUAL_INTERVENTION, SagaStatus.SUCCEEDED]


def test_an_unknown_point_of_no_return_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="point_of_no_return: 'z' is not a step"):
        SagaDefinition("x", World().definition().steps, point_of_no_return="z")


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        ({"target": "A1", "merge": []}, "merge", "at least 1"),
        ({"target": "A1", "merge": ["A1"]}, "", "cannot be merged into itself"),
        ({"target": "A1", "merge": ["B1", "B1"]}, "", "appears twice"),
        ({"target": "bad id", "merge": ["B1"]}, "target", "pattern"),
        ({"target": "A1", "merge": ["B1"], "faults": {"fail_at": "nope"}}, "faults", "unknown step"),
    ],
)
def test_a_bad_merge_request_names_the_field_and_the_problem(
    body: dict[str, object], field: str, text: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        MergeRequest.model_validate(body)
    error = caught.value.errors()[0]
    assert str(error["loc"][0] if error["loc"] else "") == field
    assert text in str(error["msg"])


def test_the_payload_carries_every_cust_no_target_first() -> None:
    payload = payload_for(MergeRequest(target="A1", merge=["B1", "C1"]))
    assert payload == {"cust_nos": ["A1", "B1", "C1"], "target": "A1", "losers": ["B1", "C1"]}


def test_the_diff_lists_only_what_changed_per_customer_and_system() -> None:
    before: dict[str, dict[str, Any]] = {
        "A1": {"aurora": "ACTIVE", "support": 1, "commerce": [7]},
        "B1": {"aurora": "ACTIVE", "support": 2, "commerce": [8]},
    }
    after: dict[str, dict[str, Any]] = {
        "A1": {"aurora": "ACTIVE", "support": 1, "commerce": [7]},
        "B1": {"aurora": "DELETED", "support": None, "commerce": []},
    }
    assert diff(before, after) == [
        {"cust_no": "B1", "system": "aurora", "before": "ACTIVE", "after": "DELETED"},
        {"cust_no": "B1", "system": "commerce", "before": [8], "after": []},
        {"cust_no": "B1", "system": "support", "before": 2, "after": None},
    ]


def test_the_runbook_says_what_was_done_what_remains_and_the_commands() -> None:
    world, store = World(), MemoryStore()
    definition = _definition(world, [])
    world.fail["d"] = RuntimeError("commerce down")
    engine = _engine(store)
    engine.create(
        definition, saga_id="s3", correlation_id="c3", payload={"cust_nos": ["A1", "B1"], "losers": ["B1"]}
    )
    record = engine.run(definition, "s3")
    entry = runbook_for(record, [])
    assert [d["step"] for d in entry.done] == ["a", "b", "c"]
    assert [(r["step"], r["status"]) for r in entry.remaining] == [("d", "FAILED")]
    assert entry.failed_step == "d" and "commerce down" in (entry.error or "")
    assert entry.commands["finish"] == ["sagawatch saga resume s3"]
    assert "WHERE cust_no IN ('B1')" in entry.commands["undo"][0]
    assert entry.commands["undo"][1] == "sagawatch reconcile --full --apply --key-from B1 --key-to B1-"


class _RunbookStore:
    """What ``MemberMergeSteps.finish`` asks of the merge store: customers, runbooks, the audit log."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.events: list[str] = []

    def customers(self, cust_nos: list[str]) -> dict[str, Any]:
        return {}

    def open_runbook(self, entry: Any) -> None:
        self.open.add(entry.saga_id)

    def resolve_runbook(self, saga_id: str) -> bool:
        if saga_id in self.open:
            self.open.discard(saga_id)
            return True
        return False

    def audit(self, **entry: Any) -> None:
        self.events.append(entry["event"])


@pytest.mark.parametrize(
    ("ending", "still_open", "said"),
    [
        (SagaStatus.SUCCEEDED, False, "merge finished (runbook resolved)"),
        (SagaStatus.COMPENSATED, False, "merge ended COMPENSATED (runbook resolved)"),
        (SagaStatus.FAILED, True, "merge ended FAILED"),
    ],
)
def test_a_merge_that_needed_a_person_closes_its_runbook_only_when_nothing_is_left_to_do(
    ending: SagaStatus, still_open: bool, said: str
) -> None:
    from instrumented_app.sagas.member_merge import MemberMergeSteps

    world, memory = World(), MemoryStore()
    # The merge's first step is "claim" (finish reads its "before" snapshot); "c" is past the point.
    definition = SagaDefinition(
        "merge-test", tuple(world.step(n) for n in ("claim", "b", "c", "d")), point_of_no_return="c"
    )
    world.fail["d"] = RuntimeError("commerce down")
    engine = _engine(memory)
    engine.create(definition, saga_id="s4", correlation_id="c4", payload={"cust_nos": [], "losers": []})
    stopped = engine.run(definition, "s4")
    runbooks = _RunbookStore()
    steps = MemberMergeSteps(runbooks, clients=None)  # type: ignore[arg-type]
    steps.finish(stopped)
    assert runbooks.open == {"s4"}

    ended = stopped.model_copy(update={"state": stopped.state.model_copy(update={"status": ending})})
    steps.finish(ended)
    assert (runbooks.open == {"s4"}) is still_open
    assert runbooks.events[-1] == said
