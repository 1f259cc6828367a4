"""`boxops runs show` and `runs logs`: what a run was asked to do and what its program
reported; which ids are worth waiting for."""

from boxops.cli.common import console
from boxops.cli.runs import print_run
from shared.bus import new_id
from shared.runs import could_be_run_id

RUN = {
    "id": "r1",
    "state": "completed",
    "command": ["sh", "-c", "fit"],
    "component": "fit-sales@1",
    "cause": {"kind": "manual"},
    "exit_code": 0,
    "params": {"alpha": 0.5, "epochs": 7},
    "reported_params": {"rows": "400"},
    "history": [],
}


def test_runs_show_lists_the_requested_params_then_the_reported_ones() -> None:
    with console.capture() as captured:
        print_run(RUN)
    shown = [line for line in captured.get().splitlines() if line.startswith(("param", "rep"))]
    assert shown == ["param     alpha = 0.5", "param     epochs = 7", "reported  rows = 400"]


def executor_line(run: dict[str, object]) -> str:
    with console.capture() as captured:
        print_run(run)
    return next(line for line in captured.get().splitlines() if line.startswith("executor"))


def test_runs_show_names_the_executors_of_a_pipelines_steps() -> None:
    steps = [
        {"step": s, "run_id": s, "state": "completed", "executor_id": e}
        for s, e in (("prepare", "ex2"), ("train", "ex1"), ("evaluate", "ex2"))
    ]
    pipeline = {**RUN, "kind": "pipeline", "pipeline": "iris-train@1", "steps": steps}
    assert executor_line(pipeline) == "executor  (pipeline) steps on ex1, ex2   attempt 1"
    waiting = {**pipeline, "steps": [{**steps[0], "state": "pending", "executor_id": None}]}
    assert executor_line(waiting) == "executor  (pipeline) no step placed yet   attempt 1"
    assert executor_line({**RUN, "executor_id": "ex1"}) == "executor  ex1   attempt 1"


def test_the_ids_the_gateway_issues_are_those_runs_logs_waits_for() -> None:
    assert all(could_be_run_id(new_id()) for _ in range(100))
    assert not any(map(could_be_run_id, ["nope", new_id().upper(), new_id()[:-1], "0" * 33]))
