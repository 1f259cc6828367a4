"""What the pipeline pages show: a pipeline's steps as a graph for `drawGraph` (static/
graphs.js), from its spec and, for a run, each step's run. Pure: no I/O."""

from typing import Any

from shared.names import BadName, check_name
from shared.queries import StepView
from shared.registry_api import PipelineView
from shared.runs import RunSubstate
from shared.specs import PipelineSpec

WAITING = "waiting"  # a step of a run that has no run of its own yet
# Sub-states a step's node and row name next to its state: how it ended without running.
MARKED = (RunSubstate.CACHED, RunSubstate.SKIPPED)
MAX_OFFSET = 10**9


def edges(spec: PipelineSpec) -> list[dict[str, str]]:
    """Upstream step → step, for each output read and each `after`."""
    return [
        {"from": up, "to": name}
        for name, upstream in spec.dependencies().items()
        for up in sorted(upstream)
        if up in spec.steps
    ]


def spec_graph(pipeline: PipelineView) -> dict[str, Any]:
    """A pipeline version's DAG: each step named with its component, linking to it."""
    spec = PipelineSpec.model_validate(pipeline.spec)
    nodes = []
    for name, step in spec.steps.items():
        pinned = pipeline.components.get(name)
        ref = pinned.ref if pinned else step.component
        href = f"/components/{pinned.name}?version={pinned.version}" if pinned else None
        nodes.append({"id": name, "label": f"{name}: {ref}", "href": href, "cls": "step"})
    return {"nodes": nodes, "edges": edges(spec), "direction": "LR"}


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


def spec_ref(kind: str, name: str, version: str) -> tuple[str, str | None]:
    """The registry ref a spec page asks for (`?version=N` or the latest), or what is
    wrong with the name or version given."""
    try:
        check_name(name, f"{kind} name")
    except BadName as err:
        return name, str(err)
    if not version:
        return name, None
    if not (version.isascii() and version.isdigit()) or int(version) < 1:
        return name, f"version {version!r} of {kind} {name!r} is not a version number (1, 2, …)"
    return f"{name}@{int(version)}", None


def list_offset(text: str) -> tuple[int, str | None]:
    """How many specs a list page skips (`?offset=`), or why the one given is not that."""
    if text.isascii() and text.isdigit() and int(text) <= MAX_OFFSET:
        return int(text), None
    return 0, f"offset {text!r} is not a number of entries to skip (0 to 10⁹)"
