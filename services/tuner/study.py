"""Optuna, in one module: a study rebuilt from the tuner's trial rows, asked for trials,
told their outcomes, and asked whether a running trial should be pruned. Samplers, pruners
and importances are Optuna's own; this only translates."""

import math
import statistics
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, TrialState, create_trial

from services.tuner.tables import TrialRow
from shared.sweep_specs import ChoiceParam, FloatParam, SweepSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)

STATES = {
    "running": TrialState.RUNNING,
    "pruning": TrialState.RUNNING,  # asked to stop: pruned once its run is aborted
    "completed": TrialState.COMPLETE,
    "failed": TrialState.FAIL,
    "pruned": TrialState.PRUNED,
}


@dataclass(frozen=True)
class Asked:
    number: int
    params: dict[str, Any]
    system_attrs: dict[str, Any]


def distributions(spec: SweepSpec) -> dict[str, BaseDistribution]:
    found: dict[str, BaseDistribution] = {}
    for name, param in spec.space.items():
        if isinstance(param, ChoiceParam):
            found[name] = CategoricalDistribution(param.values)
        elif isinstance(param, FloatParam):
            found[name] = FloatDistribution(param.low, param.high, log=param.log, step=param.step)
        else:
            step = None if param.log else param.step
            found[name] = IntDistribution(param.low, param.high, log=param.log, step=step or 1)
    return found


def sampler(spec: SweepSpec) -> optuna.samplers.BaseSampler:
    match spec.sampler:
        case "grid":
            return optuna.samplers.GridSampler(spec.grid())
        case "random":
            return optuna.samplers.RandomSampler()
        case "cmaes":
            return optuna.samplers.CmaEsSampler(warn_independent_sampling=False)
        case _:
            # Trials run in parallel: a liar keeps TPE from proposing the running ones again.
            return optuna.samplers.TPESampler(constant_liar=spec.parallel > 1)


def pruner(spec: SweepSpec) -> optuna.pruners.BasePruner:
    match spec.pruner:
        case "median":
            return optuna.pruners.MedianPruner()
        case "hyperband":
            return optuna.pruners.HyperbandPruner()
        case _:
            return optuna.pruners.NopPruner()


def grid_size(spec: SweepSpec) -> int | None:
    """Points of the grid, for the grid sampler: it has no more trials to give."""
    return math.prod(len(v) for v in spec.grid().values()) if spec.sampler == "grid" else None


class Study:
    """An Optuna study of one sweep, in memory, rebuilt from its trial rows."""

    def __init__(self, spec: SweepSpec, rows: list[TrialRow]) -> None:
        self.spec = spec
        self.space = distributions(spec)
        self.optuna = optuna.create_study(
            direction=spec.objective.direction, sampler=sampler(spec), pruner=pruner(spec)
        )
        for row in sorted(rows, key=lambda r: r.number):
            self.optuna.add_trial(self._frozen(row))

    def _frozen(self, row: TrialRow) -> FrozenTrial:
        state = STATES[row.state]
        return create_trial(
            state=state,
            value=row.value if state is TrialState.COMPLETE else None,
            params=row.params,
            distributions=self.space,
            intermediate_values={int(step): value for step, value in row.steps.items()},
            system_attrs=row.system_attrs,
        )

    def ask(self) -> Asked:
        trial = self.optuna.ask(self.space)
        frozen = self._trial(trial.number)
        return Asked(trial.number, dict(trial.params), dict(frozen.system_attrs))

    def tell(self, number: int, state: str, value: float | None = None) -> None:
        try:
            if state == "completed":
                self.optuna.tell(number, value)
            else:
                self.optuna.tell(number, state=STATES[state])
        except RuntimeError:
            # GridSampler.after_trial stops the study once its grid is exhausted, and
            # Study.stop refuses outside optimize(): the outcome is stored all the same (tell
            # stores it in a `finally`), and the tuner counts the grid's trials itself.
            if self.spec.sampler != "grid":
                raise

    def report(self, number: int, step: int, value: float) -> str | None:
        """Record an intermediate value; why the trial should be pruned, if it should."""
        trial = optuna.trial.Trial(self.optuna, self._trial(number)._trial_id)
        if step in self._trial(number).intermediate_values:
            return None  # a point sent again: reported once
        trial.report(value, step)
        if not trial.should_prune():
            return None
        return f"pruned at step {step} ({self._why(number, step)})"

    def _why(self, number: int, step: int) -> str:
        if self.spec.pruner != "median":
            return f"{self.spec.pruner}: {self._trial(number).intermediate_values[step]:.4g}"
        others = [
            t.intermediate_values[step]
            for t in self.optuna.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if step in t.intermediate_values
        ]
        if not others:
            return "median"
        return f"median of {len(others)} trials: {statistics.median(others):.4g}"

    def _trial(self, number: int) -> FrozenTrial:
        return self.optuna.get_trials(deepcopy=False)[number]

    def best(self) -> FrozenTrial | None:
        done = self.optuna.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return self.optuna.best_trial if done else None

    def importances(self) -> dict[str, float]:
        """Optuna's parameter importances; none while fewer than two trials completed or
        the completed ones all ran with the same params."""
        try:
            found = optuna.importance.get_param_importances(self.optuna)
        except (RuntimeError, ValueError):
            return {}
        return {name: float(value) for name, value in found.items()}
