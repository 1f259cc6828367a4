"""A run as a Ray Job and a Ray cluster as capacity: pure logic."""

import shlex
import subprocess
import sys
from typing import Any

import pytest

from services.executor.ray_plan import (
    BEGIN,
    ENDED,
    MIB,
    NOT_INSTALLED,
    Ended,
    UploadedOutput,
    boxops_reason,
    capacity,
    dumps_ended,
    ended_of,
    entrypoint,
    entrypoint_options,
    run_lines,
    submission_id,
)
from shared.run_parts import Resources


def node(state: str = "ALIVE", **resources: float) -> dict[str, Any]:
    return {"state": state, "resources_total": resources}


def named(node_ip: str) -> dict[str, float]:
    return {f"node:{node_ip}": 1.0}


def test_an_attempt_has_one_submission_id_in_every_life() -> None:
    assert submission_id("r1", 2) == submission_id("r1", 2) == "boxops-r1-2"
    assert submission_id("r1", 1) != submission_id("r1", 2)


@pytest.mark.parametrize(("run_id", "attempt"), [("", 1), ("r1", 0)])
def test_no_submission_id_without_a_run_and_attempt(run_id: str, attempt: int) -> None:
    with pytest.raises(ValueError, match="no Ray job"):
        submission_id(run_id, attempt)


def test_resources_map_to_entrypoint_options() -> None:
    options = entrypoint_options(Resources(cpu=2, memory_mb=300, gpu=1))
    assert options == {
        "entrypoint_num_cpus": 2,
        "entrypoint_memory": 300 * MIB,
        "entrypoint_num_gpus": 1,
    }


def test_a_gpu_can_be_a_custom_resource_of_the_cluster() -> None:
    options = entrypoint_options(Resources(cpu=0.5, memory_mb=0, gpu=2), "fakegpu")
    assert options == {"entrypoint_num_cpus": 0.5, "entrypoint_resources": {"fakegpu": 2.0}}


def test_nothing_asked_is_nothing_reserved() -> None:
    assert entrypoint_options(Resources(cpu=0, memory_mb=0, gpu=0)) == {}


def test_capacity_sums_the_alive_nodes_only() -> None:
    nodes = [
        {"state": "ALIVE", "resources_total": {"CPU": 2, "memory": 4096 * MIB} | named("10.0.0.1")},
        node(CPU=1, memory=1024 * MIB, fakegpu=1, tpu=4),
        node("DEAD", CPU=64, GPU=8, memory=1e12),
    ]
    found = capacity(nodes, "fakegpu")
    assert found.resources == Resources(cpu=3, memory_mb=5120, gpu=1)
    assert found.custom == {"tpu": 4.0}
    assert found.nodes == 2


def test_capacity_ignores_what_is_not_a_node_or_an_amount() -> None:
    nodes = [node(CPU=float("nan"), GPU=-1), "junk", {"state": "ALIVE"}, node(GPU=2)]
    found = capacity(nodes)  # type: ignore[arg-type]
    assert found.resources == Resources(cpu=0, memory_mb=0, gpu=2)
    assert found.nodes == 3


def test_the_launchers_end_line_is_read_back() -> None:
    ended = Ended(exit_code=0, outputs={"model": UploadedOutput(metrics={"acc": 0.9})})
    lines = ["hello", dumps_ended(ended), "Ray's goodbye"]
    assert ended_of(lines) == ended
    assert ended_of(["hello"]) is None
    assert ended_of([ENDED + "{not json"]) is None


def test_rays_lines_before_the_launcher_are_dropped() -> None:
    assert run_lines("INFO setting up\nRunning entrypoint\n" + BEGIN + "\nhi\n") == ["hi"]
    assert run_lines("Traceback\nboom\n") == ["Traceback", "boom"]


def test_the_launchers_own_words_are_the_reason() -> None:
    assert boxops_reason(["x", "boxops: input 'data': gone", "y"]) == "input 'data': gone"
    assert boxops_reason(["x"]) is None


def test_a_node_without_boxops_says_how_to_install_it() -> None:
    command = shlex.split(entrypoint(sys.executable))
    done = subprocess.run(
        [*command[:2], command[2].replace("services.executor", "no_such_boxops")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == NOT_INSTALLED
