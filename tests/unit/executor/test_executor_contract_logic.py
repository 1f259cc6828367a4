"""Pure parts of the run contract: markers, templates, variables, output safety."""

import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from services.executor import markers, outputs
from services.executor.contract import ContractError, Layout, param_env, render, run_env
from services.executor.markers import Marker
from shared.events import DeclaredOutput, InputRef, RunDispatched


def dispatched(**fields: object) -> RunDispatched:
    return RunDispatched(
        **{"run_id": "r1", "state": "pending", "at": datetime.now(UTC), "executor_id": "e"}
        | {"command": ["x"], **fields}
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "marker"),
    [
        ("::metric name=acc value=0.93 step=3", Marker("metric", "acc", 0.93, 3)),
        ("::metric name=loss value=1e-3", Marker("metric", "loss", 0.001, None)),
        ("::param name=lr value=0.01", Marker("param", "lr", "0.01")),
        ('::tag name=note value="two words"', Marker("tag", "note", "two words")),
    ],
)
def test_a_marker_line_is_read(line: str, marker: Marker) -> None:
    assert markers.parse(line) == marker


@pytest.mark.parametrize(
    "line",
    [
        "metric name=acc value=1",
        "::metric name=acc value=high",
        "::metric name=acc value=nan",
        "::metric name=acc value=1 step=two",
        "::metric value=1",
        "::metric name=acc value='1",
        "::other name=acc value=1",
        "",
    ],
)
def test_anything_else_is_an_ordinary_line(line: str) -> None:
    assert markers.parse(line) is None


def test_placeholders_become_the_paths_the_run_sees() -> None:
    run = dispatched(
        command=["train", "{{ inputs.raw }}/a.csv", "--out={{outputs.model}}"],
        inputs={"raw": InputRef(type="dataset", name="d")},
        outputs={"model": DeclaredOutput(type="model")},
    )
    seen = Layout(PurePosixPath("/boxops"))

    assert render(run, seen) == [
        "train",
        "/boxops/inputs/raw/a.csv",
        "--out=/boxops/outputs/model",
    ]
    with pytest.raises(ContractError, match=r"outputs\.other"):
        render(run.model_copy(update={"command": ["{{ outputs.other }}"]}), seen)


def test_a_template_is_filled_in_one_pass_so_no_value_is_expanded_again() -> None:
    run = dispatched(
        command=["echo", "{{ outputs.out }}", "{{ outputs.nope }}"],  # as the scheduler rendered
        template=["echo", "{{ params.a }}", "{{params.b}}", "{{ run.id }}", "{{ outputs.out }}"],
        params={"a": "{{ outputs.out }}", "b": "{{ outputs.nope }}"},
        outputs={"out": DeclaredOutput(type="file")},
    )

    assert render(run, Layout(PurePosixPath("/w"))) == [
        "echo",
        "{{ outputs.out }}",
        "{{ outputs.nope }}",
        "r1",
        "/w/outputs/out",
    ]


def test_an_inline_command_keeps_placeholders_other_than_paths_as_written() -> None:
    run = dispatched(command=["echo", "{{ params.a }}", "{{ run.id }}"])
    assert render(run, Layout(PurePosixPath("/w"))) == ["echo", "{{ params.a }}", "{{ run.id }}"]


def test_the_contract_variables_name_params_inputs_and_paths() -> None:
    run = dispatched(params={"lr": 0.1, "layers": [1, 2], "data-set": "x"}, env={"OWN": "1"})
    env = run_env(
        run, Layout(PurePosixPath("/w")), api_url="http://g", token="t", uris={"raw": "s3://b/k"}
    )

    assert env["OWN"] == "1"
    assert env["BOXOPS_PARAM_LR"] == "0.1"
    assert env["BOXOPS_PARAM_LAYERS"] == "[1, 2]"
    assert env["BOXOPS_PARAM_DATA_SET"] == "x"
    assert env["BOXOPS_INPUT_RAW_URI"] == "s3://b/k"
    assert (env["BOXOPS_PARAMS"], env["BOXOPS_OUTPUTS"]) == ("/w/params.json", "/w/outputs")
    assert (env["BOXOPS_API_URL"], env["BOXOPS_RUN_TOKEN"]) == ("http://g", "t")


def test_a_runs_env_cannot_override_its_contract_but_may_set_anything_else() -> None:
    own = {"BOXOPS_PARAM_LR": "999", "BOXOPS_RUN_ID": "other", "BOXOPS_PARAM_EXTRA": "1"}
    run = dispatched(params={"lr": 0.1}, env=own | {"PATH_HINT": "x"})

    env = run_env(run, Layout(PurePosixPath("/w")), api_url="", token="", uris={})

    assert (env["BOXOPS_PARAM_LR"], env["BOXOPS_RUN_ID"]) == ("0.1", "r1")
    assert (env["BOXOPS_PARAM_EXTRA"], env["PATH_HINT"]) == ("1", "x")


def test_params_are_variables_named_after_them_with_lists_and_dicts_as_json() -> None:
    assert param_env({"lr": 0.5, "layers": [1, 2], "data-set": {"a": 1}}) == {
        "BOXOPS_PARAM_LR": "0.5",
        "BOXOPS_PARAM_LAYERS": "[1, 2]",
        "BOXOPS_PARAM_DATA_SET": '{"a": 1}',
    }


def test_regular_files_and_inner_symlinks_are_collected(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "sub" / "w.bin").write_bytes(b"w")
    (model / "alias.bin").symlink_to(model / "sub" / "w.bin")

    found = outputs.collect(tmp_path, "model")

    assert [name for name, _ in found.files] == ["alias.bin", "sub/w.bin"]
    assert outputs.collect(tmp_path, "absent").files == []


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda m: (m / "p").symlink_to("/etc/passwd"), "symlink leading outside"),
        (lambda m: (m / "up").symlink_to(m.parent.parent / "secret"), "symlink leading outside"),
        (lambda m: os.mkfifo(m / "pipe"), "not a regular file"),
        (lambda m: os.link(m.parent.parent / "secret", m / "hard"), "hard link"),
    ],
)
def test_anything_that_could_leak_a_host_file_is_refused(tmp_path: Path, make, why: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "secret").write_text("s")
    model = tmp_path / "outputs" / "model"
    model.mkdir(parents=True)
    make(model)

    with pytest.raises(outputs.OutputRefused, match=why):
        outputs.collect(tmp_path / "outputs", "model")


def test_numbers_of_a_metrics_output_are_read(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "scores.json").write_text('{"acc": 0.9, "ok": true, "name": "x", "n": 3}')
    (tmp_path / "m" / "bad.json").write_text("{")

    assert outputs.metrics_of(outputs.collect(tmp_path, "m")) == {"acc": 0.9, "n": 3.0}
