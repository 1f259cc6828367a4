"""What the pipeline pages show: a pipeline's steps as a graph for `drawGraph` (static/
graphs.js), from its spec and, for a run, each step's run. Pure: no I/O."""

from typing import Any

from shared.queries import StepView
from shared.runs import RunSubstate
from shared.specs import PipelineSpec

WAITING = "waiting"  # a step of a run that has no run of its own yet
# Sub-states a step's node and row name next to its state: how it ended without running.
MARKED = (RunSubstate.CACHED, RunSubstate.SKIPPED)


def edges(spec: PipelineSpec) -> list[dict[str, str]]:
    """Upstream step → step, for each output read and each `after`."""
    return [
        {"from": up, "to": name}
        for name, upstream in spec.dependencies().items()
        for up in sorted(upstream)
        if up in spec.steps
    ]


def state_word(step: StepView | None) -> str:
    """The word a step's node shows: its state, and how it ended without running."""
    if step is None:
        return WAITING
    if step.substate in MARKED:
        return f"{step.state} ({step.substate})"
    return step.state


def state_class(step: StepView | None) -> str:
    """The node's classes: its state's look, plus `cached` or `skipped`."""
    if step is None:
        return f"step state-{WAITING}"
    marks = f" {step.substate}" if step.substate in MARKED else ""
    return f"step state-{step.state}{marks}"


def run_graph(spec: PipelineSpec | None, steps: list[StepView]) -> dict[str, Any]:
    """A pipeline run's DAG: a node per step of its spec (waiting ones too) with the state
    of the step's run, linking to that run. Without the spec (a pipeline the registry no
    longer answers for), the steps that ran, unconnected."""
    runs = {step.step: step for step in steps}
    names = list(spec.steps) if spec else []
    names += [name for name in runs if name not in names]
    nodes = [_run_node(name, runs.get(name)) for name in names]
    return {"nodes": nodes, "edges": edges(spec) if spec else [], "direction": "LR"}


def _run_node(name: str, step: StepView | None) -> dict[str, Any]:
    return {
        "id": name,
        "label": f"{name}: {state_word(step)}",
        "href": f"/runs/{step.run_id}" if step else None,
        "cls": state_class(step),
        "title": step.reason if step else "not started yet",
    }


def step_rows(spec: PipelineSpec | None, steps: list[StepView]) -> list[dict[str, Any]]:
    """The graph as a table, in the spec's order: its text for any reader."""
    graph = run_graph(spec, steps)
    runs = {step.step: step for step in steps}
    return [
        {
            "step": node["id"],
            "run": runs.get(node["id"]),
            "word": state_word(runs.get(node["id"])),
            "after": ", ".join(e["from"] for e in graph["edges"] if e["to"] == node["id"]),
        }
        for node in graph["nodes"]
    ]
