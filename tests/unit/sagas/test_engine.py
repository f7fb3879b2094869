"""The saga engine on fakes: success, failure at each step, compensation, crash and resume."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from instrumented_app.sagas import SagaDefinition, SagaEngine, SimulatedCrash, Step
from instrumented_app.sagas.engine import StepListener
from sagawatch.contracts import SagaStatus, StepStatus
from tests.unit.sagas.fakes import NAMES, Definite, MemoryStore, World


def start(
    world: World, store: MemoryStore, crash_after: str | None = None, on_step: StepListener | None = None
) -> tuple[SagaEngine, str]:
    engine = SagaEngine(store, crash_after=crash_after, on_step=on_step, sleep=lambda _s: None)
    engine.create(world.definition(), saga_id="s1", correlation_id="c1", payload={"cust_no": "C1"})
    return engine, "s1"


def test_success_runs_every_step_once_and_ends_succeeded() -> None:
    world, store = World(), MemoryStore()
    engine, saga_id = start(world, store)
    record = engine.run(world.definition(), saga_id)
    assert record.state.status is SagaStatus.SUCCEEDED
    assert world.directions("do") == list(NAMES)
    assert world.directions("undo") == []
    assert [s.status for s in record.steps] == [StepStatus.SUCCEEDED] * 4
    assert record.steps[1].result == {"made": "b"}
    assert record.state.attempts == 1
    assert all(s.started_at and s.finished_at for s in record.steps)


@pytest.mark.parametrize("failing", range(len(NAMES)))
def test_a_definite_failure_compensates_exactly_the_done_steps_in_reverse(failing: int) -> None:
    world, store = World(), MemoryStore()
    world.fail[NAMES[failing]] = Definite("refused")
    engine, saga_id = start(world, store)
    record = engine.run(world.definition(), saga_id)
    assert record.state.status is SagaStatus.COMPENSATED
    assert record.failed_step == NAMES[failing]
    assert world.directions("undo") == list(reversed(NAMES[:failing]))
    assert world.written == set()
    statuses = [s.status for s in record.steps]
    assert statuses == (
        [StepStatus.COMPENSATED] * failing + [StepStatus.FAILED] + [StepStatus.SKIPPED] * (3 - failing)
    )
    assert "refused" in (record.state.last_error or "")


def test_a_failure_of_unknown_outcome_compensates_the_failed_step_too() -> None:
    world, store = World(), MemoryStore()
    world.fail["c"] = TimeoutError("no answer")  # it may have written: compensate it as well
    engine, saga_id = start(world, store)
    record = engine.run(world.definition(), saga_id)
    assert record.state.status is SagaStatus.COMPENSATED
    assert world.directions("undo") == ["c", "b", "a"]
    assert record.step("c").status is StepStatus.COMPENSATED
    assert "no answer" in (record.step("c").error or "")


def test_keys_are_per_saga_step_and_direction_and_stable_across_runs() -> None:
    world, store = World(), MemoryStore()
    world.fail["b"] = Definite("no")
    engine, saga_id = start(world, store)
    engine.run(world.definition(), saga_id)
    keys = {(name, direction): key for name, direction, key in world.calls}
    assert keys[("a", "do")] == "s1:a:do"
    assert keys[("a", "undo")] == "s1:a:compensate"
    assert len(set(keys.values())) == len(keys)
    assert store.load(saga_id).steps[0].idempotency_key == "s1:a:do"


def test_a_failed_compensation_leaves_the_saga_failed_and_resume_finishes_it_without_redoing_others() -> None:
    world, store = World(), MemoryStore()
    world.fail["d"] = Definite("no")
    world.fail_compensation["b"] = [RuntimeError("support down")] * 3  # as many as the engine tries
    engine, saga_id = start(world, store)
    record = engine.run(world.definition(), saga_id)
    assert record.state.status is SagaStatus.FAILED
    assert record.step("b").status is StepStatus.COMPENSATING
    assert "support down" in (record.state.last_error or "")
    assert world.directions("undo") == ["c", "b", "b", "b"]

    resumed = engine.run(world.definition(), saga_id)
    assert resumed.state.status is SagaStatus.COMPENSATED
    assert world.directions("undo") == ["c", "b", "b", "b", "b", "a"]  # c is not compensated twice
    assert world.written == set()


def test_a_compensation_that_fails_briefly_is_retried_before_the_saga_gives_up() -> None:
    world, store = World(), MemoryStore()
    world.fail["c"] = Definite("no")
    world.fail_compensation["a"] = [TimeoutError("slow"), TimeoutError("slow")]
    pauses: list[float] = []
    engine = SagaEngine(store, sleep=pauses.append, compensation_pause_s=1.0)
    engine.create(world.definition(), saga_id="s1", correlation_id="c1", payload={})
    record = engine.run(world.definition(), "s1")
    assert record.state.status is SagaStatus.COMPENSATED
    assert world.directions("undo") == ["b", "a", "a", "a"]
    assert pauses == [1.0, 2.0]
    assert world.written == set()


def test_compensation_is_idempotent_when_it_runs_twice() -> None:
    world, store = World(), MemoryStore()
    world.fail["c"] = Definite("no")
    engine, saga_id = start(world, store)
    definition = world.definition()
    engine.run(definition, saga_id)
    # Force the compensation of b to run again, as after a crash before it was recorded.
    store.update_saga(saga_id, status=SagaStatus.COMPENSATING)
    store.update_step(saga_id, 1, status=StepStatus.COMPENSATING)
    record = engine.run(definition, saga_id)
    assert record.state.status is SagaStatus.COMPENSATED
    assert world.directions("undo") == ["b", "a", "b"]
    assert world.written == set()


@pytest.mark.parametrize("crash_after", ["a", "b", "c"])
def test_a_crash_between_steps_leaves_a_running_saga_that_resume_completes_without_repeats(
    crash_after: str,
) -> None:
    world, store = World(), MemoryStore()
    crashing, saga_id = start(world, store, crash_after=crash_after)
    with pytest.raises(SimulatedCrash):
        crashing.run(world.definition(), saga_id)
    left = store.load(saga_id)
    assert left.state.status is SagaStatus.RUNNING
    assert left.state.current_step == crash_after

    record = SagaEngine(store).run(world.definition(), saga_id)
    assert record.state.status is SagaStatus.SUCCEEDED
    assert world.directions("do") == list(NAMES)  # each step ran once in all
    assert record.state.attempts == 2


def test_a_crash_during_a_step_reruns_that_step_with_the_same_key() -> None:
    world, store = World(), MemoryStore()
    world.fail["b"] = SimulatedCrash("process died mid-call")
    engine, saga_id = start(world, store)
    with pytest.raises(SimulatedCrash):
        engine.run(world.definition(), saga_id)
    assert store.load(saga_id).step("b").status is StepStatus.RUNNING
    del world.fail["b"]
    record = engine.run(world.definition(), saga_id)
    assert record.state.status is SagaStatus.SUCCEEDED
    b_keys = [key for name, direction, key in world.calls if name == "b"]
    assert b_keys == ["s1:b:do", "s1:b:do"]


def test_a_terminal_saga_is_not_run_again() -> None:
    world, store = World(), MemoryStore()
    engine, saga_id = start(world, store)
    engine.run(world.definition(), saga_id)
    engine.run(world.definition(), saga_id)
    assert world.directions("do") == list(NAMES)


def test_steps_announce_themselves_forward_and_back() -> None:
    world, store = World(), MemoryStore()
    world.fail["c"] = Definite("no")
    seen: list[str] = []

    def listener(_saga_id: str, _saga_type: str, step: str, direction: str) -> None:
        seen.append(f"{direction} {step}")

    engine, saga_id = start(world, store, on_step=listener)
    engine.run(world.definition(), saga_id)
    assert seen == ["do a", "do b", "do c", "compensate b", "compensate a"]


def test_a_definition_needs_unique_step_names() -> None:
    noop = Step("x", lambda _ctx: None)
    with pytest.raises(ValueError, match="unique"):
        SagaDefinition("t", (noop, noop))
    with pytest.raises(ValueError, match="at least one"):
        SagaDefinition("t", ())


def test_each_step_and_compensation_has_a_span_with_the_saga_fields() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    world, store = World(), MemoryStore()
    world.fail["b"] = Definite("refused for someone@example.com")
    engine = SagaEngine(store, tracer=provider.get_tracer("test"), sleep=lambda _s: None)
    engine.create(world.definition(), saga_id="s1", correlation_id="c1", payload={})
    engine.run(world.definition(), "s1")
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert list(spans) == ["saga test a do", "saga test b do", "saga test a compensate"]
    attributes = dict(spans["saga test a do"].attributes or {})
    assert attributes == {
        "saga_id": "s1",
        "saga_type": "test",
        "saga_step": "a",
        "saga.direction": "do",
        "correlation_id": "c1",
    }
    failed = spans["saga test b do"]
    assert failed.status.status_code is StatusCode.ERROR
    assert "someone@example.com" not in (failed.status.description or "")
