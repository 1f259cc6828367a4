"""What a pipeline's function handles while it is traced: its own params and inputs, and its
steps' outputs, each written into the spec as the placeholder it stands for. Pure logic."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ParamRef:
    """A pipeline param: `{{ params.<name> }}`; usable inside a string too."""

    name: str

    def __str__(self) -> str:
        return f"{{{{ params.{self.name} }}}}"


@dataclass(frozen=True)
class InputRef:
    """A pipeline input of a kind (dataset, model, file): `{{ inputs.<name> }}`."""

    name: str
    kind: str

    def __str__(self) -> str:
        return f"{{{{ inputs.{self.name} }}}}"


@dataclass(frozen=True)
class OutputRef:
    """A step's output of a kind: `{{ steps.<step>.outputs.<name> }}`."""

    step: str
    name: str
    kind: str

    def __str__(self) -> str:
        return f"{{{{ steps.{self.step}.outputs.{self.name} }}}}"


Ref = ParamRef | InputRef | OutputRef
