"""What a declared component takes and gives: the kinds of its inputs and outputs.

`boxops.Dataset`, `boxops.Model` and `boxops.File` annotate a parameter that is an input
(`data: boxops.Dataset`); an instance declares an output, with the dataset or model name
it is recorded under (`outputs={"model": boxops.Model("clf")}`). `boxops.Metrics()`
declares an output of numbers. Pure Python: importing this costs nothing.
"""

from dataclasses import dataclass
from typing import ClassVar


class DeclarationError(ValueError):
    """A component or pipeline declared in Python that cannot be compiled; the text names
    the function and the parameter, step or output that is wrong."""


@dataclass(frozen=True)
class Kind:
    """An input kind as an annotation, an output kind as an instance."""

    name: str | None = None
    description: str = ""

    kind: ClassVar[str]
    inputs: ClassVar[bool] = True


class Dataset(Kind):
    """A dataset version: an input's files under `$BOXOPS_INPUTS/<name>`, or an output."""

    kind = "dataset"


class Model(Kind):
    """A model version: an input's files under `$BOXOPS_INPUTS/<name>`, or an output."""

    kind = "model"


class File(Kind):
    """Files that are neither a dataset nor a model (a report, a plot)."""

    kind = "file"


class Metrics(Kind):
    """An output of numbers, `{"accuracy": 0.93}`, recorded as the run's metrics."""

    kind = "metrics"
    inputs = False


INPUT_KINDS: dict[type, str] = {k: k.kind for k in (Dataset, Model, File)}
