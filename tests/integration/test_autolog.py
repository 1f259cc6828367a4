"""`boxops.autolog()` in real scikit-learn black boxes on a live stack (scheduler, gateway,
executor, artifact service): their params, metrics and model file read back as a user
reads them, through the gateway."""

import json
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import joblib
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from boxops.artifacts import AsyncArtifacts
from services.artifact.app import build_app as build_artifact
from services.artifact.settings import ArtifactSettings
from tests.integration.conftest import wait_run
from tests.integration.sdk_stack import TOKEN, SdkStack, sdk_stack_fixture  # noqa: F401

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "autolog" / "train.py"


@pytest.fixture(name="stack")
async def stack_with_artifacts(
    sdk_stack: SdkStack, nats_url: str, tmp_path: Path
) -> AsyncIterator[SdkStack]:
    store = tmp_path / "store"
    service = build_artifact(
        ArtifactSettings(
            nats_url=nats_url,
            home=store,
            artifact_url=(store / "blobs").as_uri(),
            artifact_port=0,
            db_url=f"sqlite+aiosqlite:///{store / 'artifact.db'}",
        )
    )
    await service.start()
    yield sdk_stack
    await service.stop()


async def completed(stack: SdkStack, command: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The finished run and its metrics' summary."""
    response = await stack.http.post("/v1/runs", json={"command": command})
    run_id = response.json()["id"]
    run = await wait_run(stack.http, run_id, timeout=120)
    assert run["state"] == "completed", run
    metrics = (await stack.http.get(f"/v1/runs/{run_id}/metrics")).json()["summary"]
    return run, {name: summary["last"] for name, summary in metrics.items()}


def iris_split() -> list[Any]:
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0)  # as the example splits


async def test_the_example_records_params_metrics_shapes_and_a_loadable_model(
    stack: SdkStack, tmp_path: Path
) -> None:
    run, metrics = await completed(stack, [sys.executable, str(EXAMPLE)])

    params = run["reported_params"]
    assert params["max_depth"] == 3
    assert params["criterion"] == "gini"
    assert (params["training_rows"], params["training_columns"]) == (112, 4)
    assert params["training_y_shape"] == [112]
    assert {
        "training_score",
        "training_accuracy_score",
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_log_loss",
        "training_roc_auc",
    } <= set(metrics)
    logs = (await stack.http.get(f"/v1/runs/{run['id']}/logs?format=text")).text
    printed = float(logs.split("test accuracy ")[1].split()[0])
    assert metrics["DecisionTreeClassifier_score_X_test"] == pytest.approx(printed, abs=1e-4)

    [model] = [a for a in run["artifacts"] if a["name"] == "model"]
    assert model["kind"] == "model"
    assert model["metadata"]["flavor"] == "sklearn"
    assert model["metadata"]["sklearn_version"] == sklearn.__version__
    async with AsyncArtifacts(stack.url, TOKEN) as artifacts:
        path = await artifacts.get(model["sha256"], tmp_path / "model.joblib")
    loaded = joblib.load(path)
    _, X_test, _, y_test = iris_split()
    assert loaded.get_params()["max_depth"] == 3
    assert loaded.score(X_test, y_test) == pytest.approx(printed, abs=1e-4)
    assert metrics["training_accuracy_score"] == loaded.score(*iris_split()[::2])


SEARCH = """
    import json
    import boxops
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    boxops.autolog()
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.01, 1.0]}, cv=3).fit(X, y)
    print("best", json.dumps([search.best_params_, search.best_score_]))
"""


async def test_a_grid_search_records_its_best_params_and_score(stack: SdkStack) -> None:
    run, metrics = await completed(stack, [sys.executable, "-c", textwrap.dedent(SEARCH)])

    logs = (await stack.http.get(f"/v1/runs/{run['id']}/logs?format=text")).text
    best, score = json.loads(logs.split("best ")[1].splitlines()[0])
    assert run["reported_params"]["best_C"] == best["C"] == 1.0
    assert run["reported_params"]["param_grid.C"] == [0.01, 1.0]
    assert run["reported_params"]["estimator__max_iter"] == 500
    assert metrics["best_cv_score"] == pytest.approx(score)
    assert [a["kind"] for a in run["artifacts"] if a["name"] == "model"] == ["model"]
