"""The spec of `kind: sweep`: a hyper-parameter search over a component or a pipeline.

Validated where it is registered (the registry), read by the tuner that runs its study,
and checked by the CLI before it is sent: every mistake names its field.
"""

import math
import re
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from shared.durations import Duration
from shared.names import SweepName
from shared.specs import Strict

Sampler = Literal["tpe", "random", "grid", "cmaes"]
Pruner = Literal["median", "hyperband", "none"]
Direction = Literal["maximize", "minimize"]
MAX_GRID = 100_000  # points of a grid: more is a mistake, and would not fit a study


class Target(Strict):
    component: str | None = Field(None, min_length=1, description="Component NAME[@VERSION].")
    pipeline: str | None = Field(None, min_length=1, description="Pipeline NAME[@VERSION].")
    inputs: dict[str, str] = Field(default_factory=dict, description="Input → NAME[@VERSION].")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Fixed params of every trial (the space's win)."
    )

    @model_validator(mode="after")
    def _one(self) -> "Target":
        if (self.component is None) == (self.pipeline is None):
            raise ValueError("give exactly one of component or pipeline")
        return self

    @property
    def ref(self) -> str:
        return self.component or self.pipeline or ""


class Objective(Strict):
    metric: str = Field(min_length=1, description="Metric the trials log, read as the value.")
    direction: Direction = Field("maximize", description="maximize or minimize.")


class IntParam(Strict):
    type: Literal["int"]
    low: int
    high: int
    step: int = Field(1, ge=1, description="Spacing of the values.")
    log: bool = Field(False, description="Sample on a log scale (low ≥ 1).")

    @model_validator(mode="after")
    def _range(self) -> "IntParam":
        _check_range(self.low, self.high, self.log)
        if self.log and self.step != 1:
            raise ValueError("log and step cannot be used together")
        return self

    def grid(self) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))


class FloatParam(Strict):
    type: Literal["float"]
    low: float
    high: float
    step: float | None = Field(None, gt=0, description="Spacing of the values (none: any).")
    log: bool = Field(False, description="Sample on a log scale (low > 0).")

    @model_validator(mode="after")
    def _range(self) -> "FloatParam":
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        _check_range(self.low, self.high, self.log)
        if self.log and self.step is not None:
            raise ValueError("log and step cannot be used together")
        return self

    def grid(self) -> list[Any]:
        if self.step is None:
            raise ValueError("a grid needs a step on a float range")
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [round(self.low + i * self.step, 12) for i in range(count)]


class ChoiceParam(Strict):
    type: Literal["choice"]
    values: list[str | int | float | bool | None] = Field(
        min_length=1, description="The values to choose from."
    )

    @model_validator(mode="after")
    def _distinct(self) -> "ChoiceParam":
        if len({repr(v) for v in self.values}) != len(self.values):
            raise ValueError("values must be distinct")
        return self

    def grid(self) -> list[Any]:
        return list(self.values)


SpaceParam = Annotated[IntParam | FloatParam | ChoiceParam, Field(discriminator="type")]


def _check_range(low: float, high: float, log: bool) -> None:
    if low > high:
        raise ValueError(f"low ({low}) is greater than high ({high})")
    if log and low <= 0:
        raise ValueError(f"a log range starts above 0, got low {low}")


class Promote(Strict):
    alias: str = Field(min_length=1, description="Model alias given to the best trial's model.")
    model: str | None = Field(
        None, min_length=1, description="Model name (default: the only model a trial produces)."
    )
    if_better_than: Literal["current", "always"] = Field(
        "current", description="current: only when it beats the alias holder's objective."
    )


class SweepSpec(Strict):
    kind: Literal["sweep"] = "sweep"
    name: SweepName
    description: str = ""
    target: Target = Field(description="The component or pipeline each trial runs.")
    objective: Objective
    # The sampler before the space: the space's check reads it.
    sampler: Sampler = Field("tpe", description="tpe, random, grid or cmaes (Optuna's).")
    pruner: Pruner = Field("none", description="median, hyperband or none (Optuna's).")
    space: dict[str, SpaceParam] = Field(description="Param name → what values it may take.")
    trials: int = Field(20, ge=1, le=10_000, description="Trials in all (a grid: at most).")
    parallel: int = Field(1, ge=1, le=256, description="Trials running at once, at most.")
    timeout: Duration | None = Field(None, gt=0, description="No trial starts after this long.")
    promote: Promote | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("space")
    @classmethod
    def _space(cls, space: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if not space:
            raise ValueError("give at least one param to search")
        for name in space:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
                raise ValueError(f"{name!r} is not a valid param name (letters, digits, _)")
        target = info.data.get("target")
        fixed = sorted(set(space) & set(target.params)) if target else []
        if fixed:
            raise ValueError(f"{fixed[0]!r} is also a fixed param of the target")
        if info.data.get("sampler") == "grid":
            grid(space)
        return space

    def grid(self) -> dict[str, list[Any]]:
        """Every value of every param, for the grid sampler."""
        return grid(self.space)


def grid(space: dict[str, Any]) -> dict[str, list[Any]]:
    """Every value of every param; refused when a param has no end or the grid is huge."""
    values = {}
    for name, param in space.items():
        try:
            values[name] = param.grid()
        except ValueError as err:
            raise ValueError(f"{name}: {err} (sampler: grid)") from None
    if math.prod(len(v) for v in values.values()) > MAX_GRID:
        raise ValueError(f"a grid of more than {MAX_GRID} points (sampler: grid)")
    return values
