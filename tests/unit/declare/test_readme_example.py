"""The README's example of components and a pipeline declared in Python compiles to the
spec it describes."""

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[3] / "README.md"


def example() -> str:
    """The first Python block under "### Components and pipelines in Python"."""
    section = README.read_text().split("### Components and pipelines in Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "no Python example under ### Components and pipelines in Python"
    return found.group(1)


def test_the_readme_example_compiles_to_the_pipeline_it_describes() -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(example(), "README.md", "exec"), namespace)  # noqa: S102 - our own README

    train, pipeline = namespace["train"].spec, namespace["train_and_eval"].spec
    assert train.command[-1] == "readme:train"
    assert (train.type, train.description, train.resources.cpu) == (
        "training",
        "Fit a tree on the table.",
        1,
    )
    assert train.outputs["model"].name == "clf"
    assert pipeline.steps["evaluate"].inputs == {
        "model": "{{ steps.train.outputs.model }}",
        "test": "{{ inputs.data }}",
    }
    assert namespace["evaluate"](model=Path("m"), test=Path("t")) == {"accuracy": 0.93}
