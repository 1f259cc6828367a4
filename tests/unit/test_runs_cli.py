"""`boxops runs show`: what a run was asked to do and what its program reported."""

from boxops.cli.common import console
from boxops.cli.runs import print_run

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
