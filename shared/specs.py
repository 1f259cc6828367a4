"""Spec models (`kind: component | pipeline`), shared by the registry, scheduler and CLI.

YAML is read with line numbers so a validation error names the field and its line:
`steps.train.component (line 12): Field required`.
"""

import re
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from shared import placeholders
from shared.events import Resources
from shared.names import ComponentName, OutputName, PipelineName
from shared.param_values import convert
from shared.placeholders import REFERENCE

SUBJECT_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

ComponentType = Literal[
    "data-processing", "training", "evaluation", "batch-inference", "test", "hpo", "custom"
]
ParamType = Literal["str", "int", "float", "bool", "list", "dict"]
InputKind = Literal["dataset", "model", "file"]
OutputKind = Literal["dataset", "model", "file", "metrics"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Param(Strict):
    type: ParamType = Field("str", description="Value type; values are checked against it.")
    default: Any = Field(None, description="Value when the run gives none.")
    required: bool = Field(False, description="A run must give it (ignored with a default).")
    description: str = ""

    @field_validator("default")
    @classmethod
    def _default_of_its_type(cls, value: Any, info: ValidationInfo) -> Any:
        # The scheduler's rule for run params, so a default no run could give is refused
        # here rather than reaching a command as `epochs = three`; the value stays as
        # written. No `type` in `info.data` means it was refused already.
        kind = info.data.get("type")
        if value is not None and kind is not None:
            try:
                convert(kind, value)
            except (TypeError, ValueError):
                raise ValueError(f"must be {kind}, got {value!r}") from None
        return value


class Input(Strict):
    type: InputKind = Field(description="dataset, model or file.")
    required: bool = Field(True, description="A run must bind it.")
    description: str = ""


class Output(Strict):
    type: OutputKind = Field(description="dataset, model, file or metrics.")
    name: OutputName | None = Field(
        None, description="Dataset or model name the output is recorded under (default: own)."
    )
    description: str = ""


class CodeRef(Strict):
    repo: str | None = Field(None, description="Git remote URL.")
    commit: str | None = Field(None, description="Commit id.")
    branch: str | None = None
    path: str | None = Field(None, description="Path of the component within the repo.")
    dirty: bool = False


class ComponentSpec(Strict):
    kind: Literal["component"] = "component"
    name: ComponentName
    type: ComponentType = "custom"
    description: str = ""
    command: list[str] = Field(min_length=1, description="Entrypoint; may use {{ params.x }}.")
    image: str | None = Field(None, description="Container image (docker backend).")
    backend: Literal["local", "docker", "ray"] = "local"
    network: bool = Field(False, description="Network access in the container.")
    env: dict[str, str] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    inputs: dict[str, Input] = Field(default_factory=dict)
    outputs: dict[str, Output] = Field(default_factory=dict)
    params: dict[str, Param] = Field(default_factory=dict)
    timeout: float | None = Field(None, gt=0, description="Seconds before the run is stopped.")
    retries: int = Field(0, ge=0, le=20)
    retry_backoff: float = Field(5.0, ge=0, description="Seconds before the first retry; doubles.")
    cache: bool = Field(False, description="Reuse an earlier run with the same inputs/params.")
    max_concurrency: int | None = Field(None, ge=1, description="Active runs at most at once.")
    selector: dict[str, str] = Field(
        default_factory=dict, description="Labels an executor must have to take the run."
    )
    code: CodeRef | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("inputs", "outputs", "params")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key):
                raise ValueError(f"{key!r} is not a valid name (letters, digits, _)")
        return value


class Step(Strict):
    component: str = Field(description="Component reference NAME[@VERSION].")
    inputs: dict[str, str] = Field(
        default_factory=dict,
        description="Input → `{{ inputs.x }}`, `{{ steps.s.outputs.y }}` or NAME@VERSION.",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="May use {{ params.x }}.")
    after: list[str] = Field(default_factory=list, description="Extra ordering dependencies.")
    cache: bool | None = Field(None, description="Overrides the component's cache setting.")
    continue_on_failure: bool = False


class PipelineSpec(Strict):
    kind: Literal["pipeline"] = "pipeline"
    name: PipelineName
    description: str = ""
    params: dict[str, Param] = Field(default_factory=dict)
    inputs: dict[str, Input] = Field(default_factory=dict)
    steps: dict[str, Step] = Field(min_length=1, description="Step name → step.")
    outputs: dict[str, str] = Field(default_factory=dict, description="→ step outputs.")
    max_concurrency: int | None = Field(None, ge=1, description="Active runs at most at once.")
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("steps")
    @classmethod
    def _step_names(cls, value: dict[str, Step]) -> dict[str, Step]:
        for key in value:
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key):
                raise ValueError(f"step name {key!r} may only hold letters, digits, _ and -")
        return value

    def dependencies(self) -> dict[str, set[str]]:
        """Each step's upstream steps: those it reads outputs from, plus `after`."""
        graph = {}
        for name, step in self.steps.items():
            refs = set(step.after)
            for value in [*step.inputs.values(), *map(str, step.params.values())]:
                for ref in REFERENCE.findall(value):
                    parts = ref.split(".")
                    if parts[0] == "steps" and len(parts) >= 2:
                        refs.add(parts[1])
            graph[name] = refs
        return graph


Spec = ComponentSpec | PipelineSpec


class SpecError(ValueError):
    """A spec that cannot be used; `problems` lists `field (line N): message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load(text: str, kinds: dict[str, type[BaseModel]]) -> BaseModel:
    """Parse one YAML spec into the model `kinds` gives for its `kind`: each caller names
    the kinds it accepts (trigger and monitor specs live in `shared.trigger_specs`)."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SpecError([f"not valid YAML, {yaml_problem(err)}"]) from None
    if not isinstance(data, dict):
        raise SpecError(["a spec is a YAML mapping with a `kind` field"])
    kind = data.get("kind")
    if kind not in kinds:
        line = _line(node, ("kind",))
        raise SpecError([f"kind{line}: must be one of {', '.join(kinds)}, got {kind!r}"])
    try:
        spec = kinds[kind].model_validate(data)
    except ValidationError as err:
        raise SpecError(validation_problems(err, node)) from None
    if kind in placeholders.KINDS:
        unfilled = placeholders.problems(kind, spec.model_dump(mode="json"))
        if unfilled:
            raise SpecError([f"{_path(loc)}{_line(node, loc)}: {why}" for loc, why in unfilled])
    return spec


def validation_problems(err: ValidationError, node: yaml.Node | None = None) -> list[str]:
    """`field (line N): message` per error; without the YAML node, `field: message`."""
    return [f"{_path(e['loc'])}{_line(node, e['loc'])}: {_message(e)}" for e in err.errors()]


def yaml_problem(err: yaml.YAMLError) -> str:
    """One line, `line L, column C: why`, 1-based, where the parser gave up."""
    if isinstance(err, yaml.reader.ReaderError):
        # The reader only knows an offset; its message's second line names "<unicode string>".
        return f"character {err.position + 1}: {str(err).splitlines()[0]}"
    if not isinstance(err, yaml.MarkedYAMLError) or err.problem_mark is None:
        return str(err).splitlines()[0] if str(err) else type(err).__name__
    mark, problem = err.problem_mark, err.problem or "not valid YAML"
    if "<stream end>" in problem and err.context_mark is not None:
        # An unclosed `[`, `{` or quote runs to the end of the file: where it was opened
        # is what the user has to fix.
        mark, problem = err.context_mark, problem.partition(", but got")[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _message(error: Any) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(spec)"


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    """` (line N)` of the deepest YAML node the error location reaches."""
    found = node
    for part in loc:
        child = _child(found, part)
        if child is None:
            break
        found = child
    return f" (line {found.start_mark.line + 1})" if found is not None else ""


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def problem(text: str, loc: tuple[Any, ...], message: str) -> str:
    """`field (line N): message` for a problem found after the schema (a pipeline's wiring)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        node = None
    return f"{_path(loc)}{_line(node, loc)}: {message}"
