"""Components and pipelines declared in Python, compiled to the same specs as YAML files.

    @boxops.component(outputs={"model": boxops.Model("clf")})
    def train(data: boxops.Dataset, max_depth: int = 3) -> Path: ...

    @boxops.pipeline
    def train_and_eval(data: boxops.Dataset, max_depth: int = 3) -> None:
        m = train(data=data, max_depth=max_depth)
        evaluate(model=m.outputs.model, test=data)

`train.spec` is its `ComponentSpec`, `train_and_eval.spec` its `PipelineSpec`;
`boxops components register FILE.py` and `boxops pipelines register FILE.py` register them.
"""

from boxops.declare.component import Component, component
from boxops.declare.kinds import Dataset, DeclarationError, File, Metrics, Model
from boxops.declare.pipeline import Pipeline, pipeline

__all__ = [
    "Component",
    "Dataset",
    "DeclarationError",
    "File",
    "Metrics",
    "Model",
    "Pipeline",
    "component",
    "pipeline",
]
