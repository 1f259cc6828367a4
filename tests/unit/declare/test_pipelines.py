"""`@boxops.pipeline` traced into a PipelineSpec: params, inputs, steps wired through their
outputs, and the wiring refused, each naming the pipeline, the step and the parameter."""

import pytest

import boxops
from boxops.declare import DeclarationError
from shared.specs import Input, Param, Step


@boxops.component(outputs={"model": boxops.Model("clf")})
def train(data: boxops.Dataset, max_depth: int = 3) -> None: ...


@boxops.component(outputs={"scores": boxops.Metrics()})
def evaluate(model: boxops.Model, test: boxops.Dataset, threshold: float = 0.5) -> None: ...


@boxops.pipeline
def train_and_eval(data: boxops.Dataset, max_depth: int = 3) -> None:
    """Train, then evaluate."""
    m = train(data=data, max_depth=max_depth)
    evaluate(model=m.outputs.model, test=data)


def test_pipeline_params_and_inputs_come_from_its_signature() -> None:
    spec = train_and_eval.spec
    assert spec.name == "train_and_eval"
    assert spec.description == "Train, then evaluate."
    assert spec.params == {"max_depth": Param(type="int", default=3)}
    assert spec.inputs == {"data": Input(type="dataset")}


def test_each_component_call_is_a_step_wired_by_placeholders() -> None:
    assert train_and_eval.spec.steps == {
        "train": Step(
            component="train",
            inputs={"data": "{{ inputs.data }}"},
            params={"max_depth": "{{ params.max_depth }}"},
        ),
        "evaluate": Step(
            component="evaluate",
            inputs={"model": "{{ steps.train.outputs.model }}", "test": "{{ inputs.data }}"},
        ),
    }
    assert train_and_eval.spec.dependencies() == {"train": set(), "evaluate": {"train"}}
    assert train_and_eval.components == [train, evaluate]


def test_a_component_called_twice_gets_two_steps_and_literals_stay_values() -> None:
    @boxops.pipeline(name="twice", max_concurrency=2)
    def twice(data: boxops.Dataset, tag: str = "a") -> dict[str, object]:
        first = train(data=data, max_depth=2)
        second = train(data="iris@4", max_depth=5)
        scored = evaluate(first.outputs.model, data, threshold=0.7)
        evaluate(model=second.outputs["model"], test=data)
        return {"best": first.outputs.model, "scores": scored.outputs.scores}

    spec = twice.spec
    assert list(spec.steps) == ["train", "train-2", "evaluate", "evaluate-2"]
    assert spec.steps["train-2"].inputs == {"data": "iris@4"}
    assert spec.steps["train-2"].params == {"max_depth": 5}
    assert spec.steps["evaluate"].params == {"threshold": 0.7}
    assert spec.steps["evaluate-2"].inputs["model"] == "{{ steps.train-2.outputs.model }}"
    assert spec.outputs == {
        "best": "{{ steps.train.outputs.model }}",
        "scores": "{{ steps.evaluate.outputs.scores }}",
    }
    assert spec.max_concurrency == 2


def test_a_step_can_be_ordered_after_others_it_takes_nothing_from() -> None:
    @boxops.pipeline
    def ordered(data: boxops.Dataset) -> None:
        first = train(data=data)
        second = train(data=data)
        evaluate(model=second.outputs.model, test=data).after(first, second)

    steps = ordered.spec.steps
    assert steps["evaluate"].after == ["train", "train-2"]
    assert ordered.spec.dependencies()["evaluate"] == {"train", "train-2"}


def test_a_step_after_something_not_a_step_is_refused() -> None:
    message = refused("train(data=data).after('prepare')")
    assert message == "pipeline flow (flow): step 'train' can run after steps only, not 'prepare'"


def test_a_pipeline_param_can_stand_inside_a_string() -> None:
    @boxops.component
    def greet(who: str) -> None: ...

    @boxops.pipeline
    def hello(name: str) -> None:
        greet(who=f"dear {name}")

    assert hello.spec.steps["greet"].params == {"who": "dear {{ params.name }}"}
    assert hello.spec.params == {"name": Param(type="str", required=True)}


def refused(body: str) -> str:
    """The message of the DeclarationError compiling a pipeline whose body is `body`."""
    namespace = {"train": train, "evaluate": evaluate, "boxops": boxops}
    source = f"def flow(data: boxops.Dataset, depth: int = 3) -> object:\n    {body}\n"
    exec(source, namespace)  # noqa: S102 - a test's own source
    with pytest.raises(DeclarationError) as caught:
        boxops.pipeline(namespace["flow"]).spec  # noqa: B018
    return str(caught.value)


def test_a_step_using_an_output_that_does_not_exist_is_named() -> None:
    message = refused("evaluate(model=train(data=data).outputs.modle, test=data)")
    assert message == (
        "pipeline flow (flow): step 'train' has no output 'modle' (train declares: model)"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("train()", "pipeline flow (flow): step 'train' (train): input 'data' is not given"),
        ("evaluate(test=data)", "step 'evaluate' (evaluate): input 'model' is not given"),
        ("train(data=data, colour=1)", "step 'train' (train): got an unexpected keyword argument"),
        (
            "evaluate(model=data, test=data)",
            "step 'evaluate' (evaluate): input 'model' takes a model, "
            "but {{ inputs.data }} is a dataset",
        ),
        (
            "evaluate(model=train(data=data).outputs.model, test=data, threshold=data)",
            "step 'evaluate' (evaluate): param 'threshold' takes a value or a pipeline param, "
            "not {{ inputs.data }}",
        ),
        ("train(data=depth)", "step 'train' (train): input 'data' takes a pipeline input"),
        ("train(data=data, max_depth=object())", "param 'max_depth' is <object object"),
        (
            "train(data=data, max_depth='deep')",
            "step 'train' (train): param 'max_depth' must be int, got 'deep'",
        ),
        ("return 3", "pipeline flow (flow): it calls no component"),
        (
            "train(data=data, max_depth=depth + 1)",
            "pipeline flow (flow): TypeError: unsupported operand type(s) for +: 'ParamRef' and "
            "'int'; while it is traced its params and inputs are placeholders",
        ),
        ("return train(data=data)", "pipeline flow (flow): it returns StepHandle("),
    ],
)
def test_wiring_that_cannot_work_is_refused_naming_the_step_and_parameter(
    body: str, message: str
) -> None:
    assert message in refused(body)


def test_a_pipeline_cannot_be_a_step_of_another() -> None:
    @boxops.pipeline
    def outer(data: boxops.Dataset) -> None:
        train_and_eval(data=data)

    with pytest.raises(DeclarationError, match=r"pipeline train_and_eval .* cannot be a step"):
        outer.spec  # noqa: B018
