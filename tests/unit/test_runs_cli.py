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


def test_the_ids_the_gateway_issues_are_those_runs_logs_waits_for() -> None:
    assert all(could_be_run_id(new_id()) for _ in range(100))
    assert not any(map(could_be_run_id, ["nope", new_id().upper(), new_id()[:-1], "0" * 33]))
