"""`@boxops.component` compiled to a ComponentSpec: types, defaults, inputs, outputs, and
the declarations refused, each naming the function and the parameter."""

from typing import Any, Optional

import pytest

import boxops
from boxops.declare import DeclarationError
from shared.specs import Input, Output, Param


@boxops.component(
    type="training",
    image="python:3.12",
    resources={"cpu": 1},
    outputs={"model": boxops.Model("clf"), "report": boxops.File, "scores": boxops.Metrics()},
    retries=2,
)
def train(
    data: boxops.Dataset,
    max_depth: int = 3,
    rate: float = 0.1,
    name: str = "forest",
    balanced: bool = False,
    layers: list[int] | None = None,
    extra: dict[str, Any] | None = None,
    base: Optional[boxops.Model] = None,  # noqa: UP045 - the other spelling of an optional
    seed: int | None = None,
    epochs: int = 10,
) -> None:
    """Fit a classifier.

    More words that stay out of the description.
    """


def test_type_hints_give_param_types_and_defaults_give_their_defaults() -> None:
    params = train.spec.params
    assert params == {
        "max_depth": Param(type="int", default=3),
        "rate": Param(type="float", default=0.1),
        "name": Param(type="str", default="forest"),
        "balanced": Param(type="bool", default=False),
        "layers": Param(type="list", default=None),
        "extra": Param(type="dict", default=None),
        "seed": Param(type="int", default=None),
        "epochs": Param(type="int", default=10),
    }


def test_input_annotations_give_inputs_and_a_none_default_makes_one_optional() -> None:
    assert train.spec.inputs == {
        "data": Input(type="dataset", required=True),
        "base": Input(type="model", required=False),
    }


def test_outputs_keep_their_kind_and_the_name_they_are_recorded_under() -> None:
    assert train.spec.outputs == {
        "model": Output(type="model", name="clf"),
        "report": Output(type="file"),
        "scores": Output(type="metrics"),
    }


def test_the_other_fields_come_from_the_decorator_and_the_docstring() -> None:
    spec = train.spec
    assert (spec.name, spec.type, spec.image, spec.retries) == (
        "train",
        "training",
        "python:3.12",
        2,
    )
    assert spec.resources.cpu == 1
    assert spec.description == "Fit a classifier."


def test_the_command_runs_the_function_by_module_and_name_from_the_files_folder() -> None:
    assert train.spec.command == [
        "{{ python }}",
        "-m",
        "boxops.entry",
        "--path",
        "{{ spec.dir }}",
        f"{__name__}:train",
    ]


def test_a_param_without_default_is_required() -> None:
    @boxops.component
    def greet(who: str) -> None: ...

    assert greet.spec.params == {"who": Param(type="str", required=True)}
    assert greet.spec.name == "greet"


def test_called_outside_a_pipeline_a_component_runs_its_function() -> None:
    @boxops.component(name="add-one")
    def add_one(x: int) -> int:
        return x + 1

    assert add_one(x=2) == 3
    assert add_one.spec.name == "add-one"


def test_an_unannotated_parameter_is_refused_naming_the_function_and_parameter() -> None:
    with pytest.raises(DeclarationError) as caught:

        @boxops.component
        def fit(data, depth: int = 3) -> None: ...

    assert str(caught.value).startswith("component fit (")
    assert "parameter 'data' has no type annotation" in str(caught.value)


@pytest.mark.parametrize(
    ("annotation", "default", "message"),
    [
        (set, None, "parameter 'x' is annotated set, which boxops cannot pass"),
        (boxops.Dataset, "iris@1", "input 'x' may default to None only"),
    ],
)
def test_a_parameter_boxops_cannot_pass_is_refused_by_name(
    annotation: Any, default: Any, message: str
) -> None:
    def fit(x: Any = default) -> None: ...

    fit.__annotations__["x"] = annotation
    with pytest.raises(DeclarationError, match=message):
        boxops.component(fit)


def test_args_and_kwargs_are_refused() -> None:
    def fit(*rows: int) -> None: ...

    with pytest.raises(DeclarationError, match=r"component fit .*'rows': \*args and \*\*kwargs"):
        boxops.component(fit)


def test_an_output_that_is_not_a_kind_is_refused_by_name() -> None:
    with pytest.raises(DeclarationError, match=r"component fit .*: output 'model' is 'clf'"):

        @boxops.component(outputs={"model": "clf"})
        def fit() -> None: ...


def test_a_default_not_of_its_type_is_named_when_the_spec_is_built() -> None:
    @boxops.component
    def fit(depth: int = "deep") -> None: ...  # type: ignore[assignment]

    with pytest.raises(
        DeclarationError, match=r"component fit .*params\.depth\.default: must be int"
    ):
        fit.spec  # noqa: B018


def test_a_field_the_spec_does_not_have_is_refused_by_name() -> None:
    @boxops.component(colour="red")
    def fit() -> None: ...

    with pytest.raises(DeclarationError, match=r"component fit .*'colour': no such spec field"):
        fit.spec  # noqa: B018


def test_a_bad_value_for_a_spec_field_names_the_field() -> None:
    @boxops.component(type="magic")
    def fit() -> None: ...

    with pytest.raises(DeclarationError, match=r"component fit .*: type: Input should be"):
        fit.spec  # noqa: B018
