"""How many trials a sweep asks for, when it is over, and its study rebuilt from rows."""

from datetime import UTC, datetime, timedelta

from services.tuner import domain
from services.tuner.domain import Counts
from services.tuner.study import Study, grid_size
from services.tuner.tables import TrialRow
from shared.sweep_specs import SweepSpec

AT = datetime(2026, 1, 1, tzinfo=UTC)


def spec(**fields: object) -> SweepSpec:
    return SweepSpec.model_validate(
        {
            "name": "s",
            "target": {"component": "c"},
            "objective": {"metric": "acc"},
            "space": {"x": {"type": "int", "low": 0, "high": 3}},
            **fields,
        }
    )


def test_parallel_bounds_the_running_trials_and_trials_the_asked_ones() -> None:
    search = spec(trials=10, parallel=4)
    assert domain.to_ask(search, Counts(asked=0, running=0), total=10, timed_out=False) == 4
    assert domain.to_ask(search, Counts(asked=9, running=1), total=10, timed_out=False) == 1
    assert domain.to_ask(search, Counts(asked=10, running=3), total=10, timed_out=False) == 0
    assert domain.to_ask(search, Counts(asked=2, running=0), total=10, timed_out=True) == 0


def test_a_sweep_is_over_once_nothing_runs_and_nothing_is_left() -> None:
    assert domain.over(Counts(asked=10, running=0), total=10, timed_out=False)
    assert not domain.over(Counts(asked=10, running=1), total=10, timed_out=False)
    assert domain.over(Counts(asked=3, running=0), total=10, timed_out=True)


def test_a_grid_has_no_more_trials_than_points_and_a_timeout_counts_from_the_start() -> None:
    grid = spec(sampler="grid", trials=100)
    assert domain.total(grid, grid_size(grid)) == 4
    late = spec(timeout="1m")
    assert domain.timed_out(late, AT, AT + timedelta(seconds=61))
    assert not domain.timed_out(late, AT, AT + timedelta(seconds=59))


def test_a_rebuilt_study_goes_on_with_the_grid_points_not_yet_asked() -> None:
    grid = spec(sampler="grid", trials=4, parallel=2)
    first = Study(grid, [])
    asked = [first.ask(), first.ask()]
    first.tell(0, "completed", 0.5)
    rows = [
        TrialRow(
            run_id=f"r-t{a.number}",
            study_id="r",
            number=a.number,
            params=a.params,
            system_attrs=a.system_attrs,
            state="completed" if a.number == 0 else "running",
            value=0.5 if a.number == 0 else None,
            requested_at=AT,
        )
        for a in asked
    ]
    again = Study(grid, rows)
    rest = [again.ask(), again.ask()]
    assert sorted(t.params["x"] for t in [*asked, *rest]) == [0, 1, 2, 3]
    assert [t.number for t in rest] == [2, 3]
