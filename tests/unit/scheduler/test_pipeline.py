"""Pipeline progression and wiring. Pure, no I/O."""

import pytest

from services.scheduler.domain import RunState
from services.scheduler.pipeline import (
    PipelinePlan,
    StepStatus,
    progress,
    step_inputs,
    step_params,
)
from shared.events import FileEntry, InputRef, RunOutput
from shared.specs import PipelineSpec

C, F, A, P, R = (
    RunState.COMPLETED,
    RunState.FAILED,
    RunState.ABORTED,
    RunState.PENDING,
    RunState.RUNNING,
)

# prepare → train → evaluate, and report independent of train
SPEC = PipelineSpec.model_validate(
    {
        "name": "p",
        "params": {"depth": {"type": "int", "default": 3}},
        "inputs": {"data": {"type": "dataset"}},
        "steps": {
            "prepare": {"component": "prepare", "inputs": {"raw": "{{ inputs.data }}"}},
            "train": {
                "component": "train",
                "inputs": {"train": "{{ steps.prepare.outputs.train }}"},
                "params": {"max_depth": "{{ params.depth }}", "note": "d={{ params.depth }}"},
            },
            "evaluate": {
                "component": "evaluate",
                "inputs": {"model": "{{ steps.train.outputs.model }}"},
            },
            "report": {"component": "report", "after": ["prepare"]},
        },
    }
)


def status(state: RunState, **outputs: RunOutput) -> StepStatus:
    return StepStatus(state=state, run_id=f"run-{state}", outputs=outputs)


def test_steps_without_upstream_start_first() -> None:
    assert progress(SPEC, {}).start == ["prepare"]


def test_independent_steps_start_together_when_their_upstream_completes() -> None:
    step = progress(SPEC, {"prepare": status(C)})
    assert step.start == ["train", "report"]
    assert step.outcome is None


def test_nothing_starts_while_upstream_runs() -> None:
    assert progress(SPEC, {"prepare": status(R)}).start == []


def test_a_failed_step_skips_its_dependants_transitively_but_not_the_others() -> None:
    step = progress(SPEC, {"prepare": status(C), "train": status(F)})
    assert step.skip == {"evaluate": "skipped: upstream step train did not complete"}
    assert step.start == ["report"]


def test_the_pipeline_fails_once_every_step_ended_if_a_step_failed() -> None:
    steps = {
        "prepare": status(C),
        "train": status(F),
        "evaluate": StepStatus(A, "e", substate="skipped"),
        "report": status(C),
    }
    step = progress(SPEC, steps)
    assert (step.outcome, step.reason) == (RunState.FAILED, "step train failed")


def test_continue_on_failure_lets_the_pipeline_complete() -> None:
    spec = SPEC.model_copy(deep=True)
    spec.steps["report"].continue_on_failure = True
    steps = {s: status(C) for s in ("prepare", "train", "evaluate")} | {"report": status(F)}
    assert progress(spec, steps).outcome is RunState.COMPLETED


def test_all_completed_completes() -> None:
    steps = {s: status(C) for s in SPEC.steps}
    assert (progress(SPEC, steps).outcome, progress(SPEC, steps).start) == (RunState.COMPLETED, [])


def test_outputs_are_wired_to_the_inputs_of_later_steps() -> None:
    files = [FileEntry(path="train.csv", size=10, sha256="b" * 64)]
    steps = {
        "prepare": StepStatus(
            C, "run-p", outputs={"train": RunOutput(type="dataset", name="iris-train", files=files)}
        )
    }
    data = InputRef(type="dataset", name="iris", version=2)
    assert step_inputs(SPEC, "prepare", {"data": data}, steps) == {"raw": data}
    wired = step_inputs(SPEC, "train", {"data": data}, steps)["train"]
    assert isinstance(wired, InputRef)
    assert (wired.type, wired.name, wired.files, wired.run_id) == (
        "dataset",
        "iris-train",
        files,
        "run-p",
    )


def test_params_keep_their_type_when_a_whole_value_is_a_reference() -> None:
    assert step_params(SPEC, "train", {"depth": 5}) == {"max_depth": 5, "note": "d=5"}


def test_a_wiring_to_nothing_known_is_an_error() -> None:
    spec = SPEC.model_copy(deep=True)
    spec.steps["report"].inputs = {"x": "{{ steps.prepare.logs }}"}
    with pytest.raises(ValueError, match="cannot wire"):
        step_inputs(spec, "report", {}, {"prepare": status(C)})


def test_a_pipeline_run_recorded_as_the_registrys_answer_reads_back_typed() -> None:
    # What a pipeline run keeps (Run.spec): the registry's JSON answer plus the literals.
    literal = InputRef(type="dataset", name="iris", version=2, digest="sha256:ab")
    recorded = {
        "name": "p",
        "version": 1,
        "digest": "sha256:p",
        "description": "",
        "spec": SPEC.model_dump(mode="json"),
        "components": {
            "report": {"name": "report", "version": 3, "digest": "sha256:r", "spec": {}}
        },
        "created_at": "2026-01-02T03:04:05Z",
        "created": None,
        "literals": {"report": {"raw": literal.model_dump(mode="json")}},
    }

    kept = PipelinePlan.model_validate(recorded)

    assert kept.components["report"].ref == "report@3"
    assert kept.literals == {"report": {"raw": literal}}
    assert PipelinePlan.model_validate(kept.model_dump(mode="json")) == kept
