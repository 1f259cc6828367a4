"""`boxops quickstart`: the iris pipeline, trained, watched, and retrained by itself.

Starts the embedded stack if none runs, pushes `iris@1`, registers the example's
components and pipeline, runs it, applies a retraining trigger and an accuracy monitor,
pushes a noisier `iris@2` and follows the run that starts by itself.
"""

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.rule import Rule
from rich.tree import Tree

from boxops.cli import datasets
from boxops.cli.common import call, client, console, fail
from boxops.cli.embedded import up_detached
from boxops.cli.runs import follow, print_run
from boxops.cli.spec_files import spec_text
from boxops.home import home, read_state
from boxops.stack import free_port, port_free

if TYPE_CHECKING:
    from boxops.client import Client

EXAMPLE = "iris"
DEFAULT_PORT = 8765
SPECS = ("prepare", "train", "evaluate")


def examples_dir() -> Path:
    """The example's sources: beside the package in a checkout, inside it when installed."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package.parent / "examples" / EXAMPLE, package / "examples" / EXAMPLE):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("the iris example is not installed with boxops")


def quickstart(
    noise: float = typer.Option(1.2, help="Feature noise in iris@2 (0 keeps it clean)."),
) -> None:
    """Run the iris example end to end: train, watch, retrain on new data."""
    began = time.monotonic()
    root = home()
    _ensure_stack(root)
    gateway = client()
    work = _fresh(root / "quickstart")
    # Run from where boxops installed it: local runs cannot see (nor change) home's files.
    example = examples_dir()

    _title("1. Data: the iris table scikit-learn ships, pushed as dataset iris")
    _write_iris(work / "iris-v1", noise=0.0, seed=1)
    datasets.push("iris", work / "iris-v1", type="table")

    _title("2. Components and the pipeline, registered from YAML")
    for name in SPECS:
        _register(gateway, "components", example / f"{name}.yaml")
    _register(gateway, "pipelines", example / "pipeline.yaml")

    _title("3. Run the pipeline on iris@1")
    first = _run_pipeline(gateway, "iris@1")
    model_v1 = _model_of(gateway, first)

    _title("4. Retrain on new data, and watch accuracy")
    _apply(gateway, "triggers", example / "retrain.yaml")
    _apply(gateway, "monitors", example / "accuracy.yaml")
    # A new seed each time: run again, the quickstart pushes (and retrains on) a new version.
    pushed_at = datetime.now(UTC)
    _write_iris(work / "iris-v2", noise=noise, seed=time.time_ns() % 2**32)
    datasets.push("iris", work / "iris-v2", type="table")
    console.print("Waiting for the run the trigger starts…")
    second = follow(gateway, _triggered_run(gateway, since=pushed_at), quiet=False)
    print_run(second)
    model_v2 = _model_of(gateway, second)
    new_version = str(second["inputs"]["data"]["version"])

    _title(f"5. Lineage of iris@{new_version}")
    console.print(_lineage(gateway, "iris", new_version))
    crossings = call(gateway.request, "GET", "/v1/monitors/iris-accuracy/history").json()
    _summary(gateway, first, second, model_v1, model_v2, crossings, time.monotonic() - began)
    if first["state"] != "completed" or second["state"] != "completed":
        raise typer.Exit(1)


def _ensure_stack(root: Path) -> None:
    if read_state(root):
        return
    # The usual port if it is free; another boxops or program may hold it.
    port = DEFAULT_PORT if port_free(DEFAULT_PORT) else free_port()
    console.print(f"Starting the embedded stack (boxops up --detach --port {port})…")
    up_detached(root, port)


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _write_iris(folder: Path, *, noise: float, seed: int) -> None:
    """The iris table as CSV; `noise` adds Gaussian noise (in standard deviations)."""
    import numpy as np
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame.rename(columns={"target": "species"})
    frame["species"] = [data.target_names[i] for i in frame["species"]]
    if noise:
        features = [c for c in frame.columns if c != "species"]
        spread = frame[features].std()
        jitter = np.random.default_rng(seed).normal(0, noise, size=frame[features].shape)
        frame[features] = frame[features] + jitter * spread.to_numpy()
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "iris.csv", index=False)


def _register(gateway: "Client", kind: str, path: Path) -> None:
    found = _post_yaml(gateway, f"/v1/{kind}", spec_text(path))
    state = "registered" if found.get("created") else "unchanged"
    console.print(f"{kind[:-1]} [bold]{found['name']}@{found['version']}[/bold] {state}")


def _apply(gateway: "Client", kind: str, path: Path) -> None:
    found = _post_yaml(gateway, f"/v1/{kind}", path.read_text())
    console.print(f"{kind[:-1]} [bold]{found['name']}[/bold] v{found['version']} applied")


def _post_yaml(gateway: "Client", path: str, text: str) -> dict[str, Any]:
    headers = {"content-type": "application/yaml"}
    return call(gateway.request, "POST", path, content=text, headers=headers).json()


def _run_pipeline(gateway: "Client", data: str) -> dict[str, Any]:
    accepted = call(gateway.submit, pipeline="iris-train", inputs={"data": data})
    run = follow(gateway, accepted.id, quiet=False)
    print_run(run)
    return run


def _triggered_run(gateway: "Client", *, since: datetime, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = call(gateway.runs, limit=5, trigger="retrain-on-new-iris", since=since.isoformat())
        for run in runs:
            if run.kind == "pipeline":
                return run.id
        time.sleep(0.2)
    fail("no retraining run started within a minute; see `boxops triggers history`")


def _model_of(gateway: "Client", pipeline_run: dict[str, Any]) -> dict[str, Any] | None:
    """The model version the run's train step produced, once the registry has recorded it."""
    train = next((s for s in pipeline_run.get("steps", []) if s["step"] == "train"), None)
    if train is None:
        return None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = call(gateway.request, "GET", "/v1/models/iris-classifier/versions").json()
        for version in page.get("items", []):
            if version.get("run_id") == train["run_id"]:
                console.print(
                    f"model [bold]iris-classifier@{version['version']}[/bold] "
                    f"metrics {version.get('metrics', {})}"
                )
                return version
        time.sleep(0.2)
    return None


def _lineage(gateway: "Client", dataset: str, version: str) -> Tree:
    view = call(gateway.request, "GET", f"/v1/lineage/datasets/{dataset}/{version}").json()
    tree = Tree(f"[bold]{view['root']['kind']} {view['root']['ref']}[/bold]")
    for node in view.get("downstream", []):
        _branch(tree, node)
    return tree


def _branch(tree: Tree, node: dict[str, Any]) -> None:
    label = f"{node['kind']} {node['ref']}" + (f" ({node['label']})" if node.get("label") else "")
    branch = tree.add(label)
    for child in node.get("children", []):
        _branch(branch, child)


def _summary(
    gateway: "Client",
    first: dict[str, Any],
    second: dict[str, Any],
    model_v1: dict[str, Any] | None,
    model_v2: dict[str, Any] | None,
    crossings: list[dict[str, Any]],
    took: float,
) -> None:
    _title("What happened")
    console.print(f"• pipeline run {first['id']} on iris@1: {first['state']}")
    if model_v1:
        console.print(f"  → model iris-classifier@{model_v1['version']}")
    cause = second["cause"]
    console.print(
        f"• iris@{second['inputs']['data']['version']} arrived; trigger {cause.get('trigger')} "
        f"started run {second['id']} "
        f"(event {cause.get('event_id')}): {second['state']}"
    )
    if model_v2:
        console.print(f"  → model iris-classifier@{model_v2['version']}")
    for crossing in crossings:
        if crossing["kind"] == "below":
            console.print(
                f"• monitor iris-accuracy: accuracy {crossing['value']:.3f} fell below "
                f"{crossing['threshold']} → metric.below_threshold published"
            )
    console.print(f"• all in {took:.1f} s\n")
    console.print("Explore:")
    for command in (
        f"boxops runs show {second['id']}",
        "boxops runs list --pipeline iris-train",
        f"boxops datasets lineage iris@{second['inputs']['data']['version']}",
        "boxops models list",
        "boxops triggers history retrain-on-new-iris",
        "boxops monitors history iris-accuracy",
        f"open {gateway.base_url}/docs",
    ):
        console.print(f"  {command}")
    console.print("\nThe stack keeps running in the background (boxops status).")
    console.print("Stop it with: boxops down")
    console.print("See it all in the web UI (`boxops ui` opens it signed in):")
    console.print(f"  {gateway.base_url}/runs", soft_wrap=True)


def _title(text: str) -> None:
    console.print(Rule(text, align="left"))
