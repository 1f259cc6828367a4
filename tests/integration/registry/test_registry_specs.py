"""Components and pipelines through the gateway: immutable versions, refusals with lines."""

from typing import Any

from shared.queries import COMPONENT_GET, PIPELINE_GET, RefQuery, Reply
from tests.integration.registry.conftest import Registry

TRAIN = """kind: component
name: train
type: training
command: [python, train.py, "--lr", "{{ params.lr }}"]
inputs:
  data: {type: dataset}
outputs:
  model: {type: model}
params:
  lr: {type: float, default: 0.1}
"""
PREP = """kind: component
name: prep
command: [python, prep.py]
inputs:
  raw: {type: dataset}
outputs:
  clean: {type: dataset}
"""
FLOW = """kind: pipeline
name: flow
inputs:
  raw: {type: dataset}
steps:
  prep:
    component: prep
    inputs:
      raw: "{{ inputs.raw }}"
  train:
    component: train
    inputs:
      data: "{{ steps.prep.outputs.clean }}"
"""
YAML = {"content-type": "application/yaml"}


async def register(registry: Registry, kind: str, text: str) -> tuple[int, Any]:
    response = await registry.http.post(f"/v1/{kind}s", content=text, headers=YAML)
    return response.status_code, response.json()


async def ask(registry: Registry, subject: str, ref: str) -> Reply:
    message = await registry.bus.broker.request(RefQuery(ref=ref), subject, timeout=5)
    return Reply.model_validate(await message.decode())


async def test_the_same_component_keeps_its_version_and_a_change_makes_a_new_one(
    registry: Registry,
) -> None:
    assert (await register(registry, "component", TRAIN))[0] == 201
    status, again = await register(registry, "component", "# a comment\n" + TRAIN)
    assert (status, again["version"], again["created"]) == (200, 1, False)
    status, changed = await register(registry, "component", TRAIN.replace("0.1", "0.2"))
    assert (status, changed["version"]) == (201, 2)

    listed = (await registry.http.get("/v1/components")).json()
    assert [(c["name"], c["version"]) for c in listed["items"]] == [("train", 2)]
    versions = (await registry.http.get("/v1/components/train/versions")).json()
    assert [v["version"] for v in versions["items"]] == [2, 1] and versions["total"] == 2
    first = (await registry.http.get("/v1/components/train/versions/1")).json()
    assert first["spec"]["params"]["lr"]["default"] == 0.1
    announced = await registry.events("component.registered")
    assert [(e["name"], e["version"]) for e in announced] == [("train", 1), ("train", 2)]


async def test_the_scheduler_finds_components_and_pinned_pipelines_over_nats(
    registry: Registry,
) -> None:
    await register(registry, "component", PREP)
    await register(registry, "component", TRAIN)
    status, flow = await register(registry, "pipeline", FLOW)
    assert status == 201, flow
    await register(registry, "component", TRAIN.replace("0.1", "0.3"))  # train@2, later

    component = await ask(registry, COMPONENT_GET, "train@1")
    assert component.ok and {"name", "version", "digest", "spec"} <= set(component.result)
    pipeline = await ask(registry, PIPELINE_GET, "flow")
    assert pipeline.result["components"]["train"]["version"] == 1  # pinned when registered
    assert pipeline.result["components"]["prep"]["spec"]["name"] == "prep"
    missing = await ask(registry, COMPONENT_GET, "nope")
    assert (missing.ok, missing.status, missing.error) == (False, 404, "no component 'nope'")

    status, again = await register(registry, "pipeline", FLOW)  # now resolves train@2
    assert (status, again["version"]) == (201, 2)
    assert again["components"]["train"]["version"] == 2


async def test_a_pipeline_that_cannot_run_is_refused_with_each_problem(
    registry: Registry,
) -> None:
    await register(registry, "component", PREP)
    await register(registry, "component", TRAIN)
    broken = FLOW.replace("steps.prep.outputs.clean", "steps.train.outputs.model").replace(
        "    component: prep", "    component: preprocess"
    )
    status, refusal = await register(registry, "pipeline", broken)
    assert status == 422
    assert refusal["detail"]["problems"] == [
        "steps.prep.component (line 7): unknown component 'preprocess'",
        "steps.train.inputs.data (line 13): steps.train.outputs.model is a model, "
        "but the input takes a dataset",
        "steps.train (line 11): cycle: train → train",
    ]
    status, refusal = await register(registry, "pipeline", "kind: pipeline\nname: x\n")
    assert status == 422
    assert refusal["detail"]["problems"] == ["steps (line 1): Field required"]
    assert (await registry.http.get("/v1/pipelines")).json()["total"] == 0


async def test_malformed_yaml_is_refused_naming_line_and_column(registry: Registry) -> None:
    text = "kind: component\nname: train\ncommand: [python, train.py\n"
    status, refusal = await register(registry, "component", text)
    assert status == 422
    assert refusal["detail"]["problems"] == [
        "not valid YAML, line 3, column 10: expected ',' or ']'"
    ]


async def test_a_param_default_not_of_its_type_is_refused_naming_field_and_line(
    registry: Registry,
) -> None:
    status, refusal = await register(
        registry,
        "component",
        TRAIN.replace("lr: {type: float, default: 0.1}", "lr:\n    type: int\n    default: three"),
    )
    assert status == 422
    assert refusal["detail"]["problems"] == [
        "params.lr.default (line 12): must be int, got 'three'"
    ]
    assert (await registry.http.get("/v1/components")).json()["total"] == 0


async def test_over_http_a_spec_must_come_with_its_folder_and_python_filled_in(
    registry: Registry,
) -> None:
    text = "kind: component\nname: t\ncommand:\n  - '{{ python }}'\n  - '{{ spec.dir }}/t.py'\n"
    status, refusal = await register(registry, "component", text)
    assert status == 422
    assert refusal["detail"]["problems"] == [
        f"command.{i} (line {i + 4}): {{{{ {ref} }}}} is filled in when the CLI registers a "
        "spec file (boxops components register FILE); a spec sent over HTTP must have it "
        "filled in"
        for i, ref in enumerate(("python", "spec.dir"))
    ]
    filled = text.replace("{{ python }}", "/usr/bin/python3").replace("{{ spec.dir }}", "/src")
    status, found = await register(registry, "component", filled)
    assert status == 201, found
    assert found["spec"]["command"] == ["/usr/bin/python3", "/src/t.py"]
