"""The sweep spec refuses what no study could run, naming the field and its line."""

import pytest

from shared.specs import SpecError, load
from shared.sweep_specs import SweepSpec

GOOD = """\
kind: sweep
name: iris-search
target: {component: iris-tree, inputs: {data: "iris@latest"}}
objective: {metric: accuracy, direction: maximize}
space:
  max_depth: {type: int, low: 2, high: 12}
  min_leaf: {type: int, low: 1, high: 64, log: true}
  ccp_alpha: {type: float, low: 0.0, high: 0.1}
  criterion: {type: choice, values: [gini, entropy]}
sampler: tpe
pruner: median
trials: 40
parallel: 4
timeout: 30m
promote: {alias: production, if_better_than: current}
"""


def sweep(text: str) -> SweepSpec:
    found = load(text, {"sweep": SweepSpec})
    assert isinstance(found, SweepSpec)
    return found


def refused(text: str) -> str:
    with pytest.raises(SpecError) as err:
        sweep(text)
    return str(err.value)


def test_a_sweep_spec_reads_as_written() -> None:
    spec = sweep(GOOD)
    assert spec.target.ref == "iris-tree" and spec.timeout == 1800
    assert spec.space["min_leaf"].type == "int" and spec.promote is not None


def test_an_empty_space_is_refused_by_name() -> None:
    text = GOOD.split("space:")[0] + "space: {}\n"
    assert "space (line 5): give at least one param to search" in refused(text)


def test_low_above_high_names_the_param() -> None:
    problem = refused(GOOD.replace("low: 2, high: 12", "low: 12, high: 2"))
    assert "space.max_depth.int (line 6): low (12) is greater than high (2)" in problem


def test_an_unknown_sampler_or_pruner_is_named() -> None:
    assert "sampler (line 10)" in refused(GOOD.replace("sampler: tpe", "sampler: bayes"))
    assert "pruner (line 11)" in refused(GOOD.replace("pruner: median", "pruner: asha"))


def test_a_grid_needs_a_step_on_each_float_range() -> None:
    problem = refused(GOOD.replace("sampler: tpe", "sampler: grid"))
    assert "space (line 6): ccp_alpha: a grid needs a step on a float range" in problem
    text = GOOD.replace("sampler: tpe", "sampler: grid").replace(
        "high: 0.1}", "high: 0.1, step: 0.05}"
    )
    assert len(sweep(text).grid()["ccp_alpha"]) == 3


def test_a_log_range_starts_above_zero() -> None:
    assert "a log range starts above 0" in refused(
        GOOD.replace("low: 1, high: 64", "low: 0, high: 64")
    )


def test_a_target_names_one_component_or_pipeline() -> None:
    both = GOOD.replace("{component: iris-tree,", "{component: a, pipeline: b,")
    assert "target (line 3): give exactly one of component or pipeline" in refused(both)


def test_a_searched_param_cannot_also_be_fixed() -> None:
    text = GOOD.replace('inputs: {data: "iris@latest"}', "params: {max_depth: 3}")
    assert "'max_depth' is also a fixed param of the target" in refused(text)


def test_trials_and_parallel_are_positive() -> None:
    assert "trials (line 12)" in refused(GOOD.replace("trials: 40", "trials: 0"))
    assert "parallel (line 13)" in refused(GOOD.replace("parallel: 4", "parallel: 0"))
    assert "timeout (line 14)" in refused(GOOD.replace("timeout: 30m", "timeout: soon"))
