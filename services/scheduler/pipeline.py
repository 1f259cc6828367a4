"""Pipeline progression: which steps start, which are skipped, when the pipeline ends.
Pure logic over the pipeline spec and its steps' states."""

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from services.scheduler.domain import RunState, RunSubstate
from shared.events import InputRef, RunOutput
from shared.registry_api import PipelineView
from shared.specs import REFERENCE, PipelineSpec

FAILED = (RunState.FAILED, RunState.ABORTED)


class PipelinePlan(PipelineView):
    """What a pipeline run keeps as its spec: the pipeline version the registry answered
    with, and its steps' literal NAME@VERSION inputs resolved at intake, so the run
    progresses without asking the registry again."""

    literals: dict[str, dict[str, InputRef]] = Field(
        default_factory=dict, description="Step → input → the version it reads."
    )


@dataclass(frozen=True)
class StepStatus:
    state: RunState
    run_id: str
    substate: RunSubstate | None = None
    outputs: dict[str, RunOutput] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return self.substate == RunSubstate.SKIPPED


@dataclass(frozen=True)
class Progress:
    start: list[str]
    skip: dict[str, str]
    outcome: RunState | None = None
    reason: str = ""


def progress(spec: PipelineSpec, steps: dict[str, StepStatus]) -> Progress:
    graph = spec.dependencies()
    skip: dict[str, str] = {}
    changed = True
    while changed:  # skipping one step may skip its dependants in turn
        changed = False
        for name, upstream in graph.items():
            if name in steps or name in skip:
                continue
            for up in sorted(upstream):
                if up in skip or (up in steps and steps[up].state in FAILED):
                    skip[name] = f"skipped: upstream step {up} did not complete"
                    changed = True
                    break
    start = [
        name
        for name, upstream in graph.items()
        if name not in steps
        and name not in skip
        and all(up in steps and steps[up].state is RunState.COMPLETED for up in upstream)
    ]
    return Progress(start, skip, *_outcome(spec, steps, skip, start))


def _outcome(
    spec: PipelineSpec, steps: dict[str, StepStatus], skip: dict[str, str], start: list[str]
) -> tuple[RunState | None, str]:
    if start or any(name not in steps and name not in skip for name in spec.steps):
        return None, ""
    if any(steps[name].state not in (*FAILED, RunState.COMPLETED) for name in steps):
        return None, ""
    failed = [
        name
        for name, status in steps.items()
        if status.state in FAILED
        and not status.skipped
        and not spec.steps[name].continue_on_failure
    ]
    if failed:
        return RunState.FAILED, f"step {failed[0]} failed"
    return RunState.COMPLETED, "all steps done"


def step_inputs(
    spec: PipelineSpec,
    step: str,
    pipeline_inputs: dict[str, InputRef],
    steps: dict[str, StepStatus],
) -> dict[str, InputRef | str]:
    """The step's inputs: wired refs, or NAME@VERSION strings the registry must resolve."""
    wired: dict[str, InputRef | str] = {}
    for name, value in spec.steps[step].inputs.items():
        match = REFERENCE.fullmatch(value.strip())
        if match is None:
            wired[name] = value
            continue
        parts = match.group(1).split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            wired[name] = pipeline_inputs[parts[1]]
        elif parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            upstream = steps[parts[1]]
            wired[name] = _from_output(upstream.outputs[parts[3]], upstream.run_id)
        else:
            raise ValueError(f"step {step} input {name}: cannot wire {value!r}")
    return wired


def _from_output(output: RunOutput, run_id: str) -> InputRef:
    kind = output.type if output.type in ("dataset", "model") else "file"
    return InputRef(type=kind, name=output.name or run_id, files=output.files, run_id=run_id)


def step_params(spec: PipelineSpec, step: str, params: dict[str, Any]) -> dict[str, Any]:
    """The step's params with `{{ params.x }}` filled from the pipeline's (typed) params."""
    filled = {}
    for name, value in spec.steps[step].params.items():
        if not isinstance(value, str):
            filled[name] = value
            continue
        whole = REFERENCE.fullmatch(value.strip())
        if whole and whole.group(1).startswith("params."):
            filled[name] = params.get(whole.group(1)[7:])  # keeps the param's own type
        else:
            filled[name] = REFERENCE.sub(
                lambda m: str(params.get(m.group(1)[7:], m.group(0))), value
            )
    return filled
