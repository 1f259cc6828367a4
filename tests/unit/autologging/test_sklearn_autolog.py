"""Autolog in real scikit-learn programs, each in a fresh interpreter (its hooks are the
process's), in a run's SDK dir as the executor lays it out: what is recorded, once."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
IRIS = """
import boxops
boxops.autolog()
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
"""


def run(code: str, sdk: Path, in_run: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if in_run:
        env |= {"BOXOPS_RUN_ID": "run-1", "BOXOPS_SDK_DIR": str(sdk)}
    program = [sys.executable, "-c", textwrap.dedent(code)]
    done = subprocess.run(program, cwd=sdk.parent, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def params(sdk: Path) -> dict[str, Any]:
    return {r["name"]: r["value"] for r in lines(sdk / "records.jsonl") if r["kind"] == "param"}


def metrics(sdk: Path) -> list[tuple[str, float]]:
    return [(p["name"], p["value"]) for p in lines(sdk / "metrics.jsonl")]


def test_autolog_before_scikit_learn_is_imported_loads_none_of_it(tmp_path: Path) -> None:
    code = """
        import sys, boxops
        boxops.autolog()
        print("sklearn" in sys.modules)
        from sklearn.linear_model import LogisticRegression
        LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    """
    done = run(code, tmp_path / "sdk")

    assert done.stdout.split() == ["False"]
    assert params(tmp_path / "sdk")["C"] == 1.0


def test_a_pipelines_steps_and_a_searchs_candidates_are_not_recorded_on_their_own(
    tmp_path: Path,
) -> None:
    code = (
        IRIS
        + """
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
pipe = make_pipeline(StandardScaler(), DecisionTreeClassifier(random_state=0))
search = GridSearchCV(pipe, {"decisiontreeclassifier__max_depth": [1, 3]}, cv=3)
assert search.fit(X_train, y_train) is search
print(search.best_score_, search.score(X_test, y_test))
"""
    )
    sdk = tmp_path / "sdk"
    best_score, test_score = map(float, run(code, sdk).stdout.split())

    recorded = params(sdk)
    assert recorded["best_decisiontreeclassifier__max_depth"] == 3
    assert recorded["estimator__decisiontreeclassifier__random_state"] == 0
    assert recorded["param_grid.decisiontreeclassifier__max_depth"] == [1, 3]
    points = metrics(sdk)
    assert [n for n, _ in points].count("training_score") == 1  # one fit: the search's
    assert ("best_cv_score", best_score) in points
    assert ("GridSearchCV_score_X_test", test_score) in points
    [model] = lines(sdk / "artifacts.jsonl")
    assert model["metadata"]["estimator"] == "sklearn.model_selection._search.GridSearchCV"


def test_a_pipelines_score_is_its_own_not_its_last_steps(tmp_path: Path) -> None:
    """Pipeline.score is one of scikit-learn's `available_if` methods: hooked all the same."""
    code = (
        IRIS
        + """
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
print(pipe.score(X_test, y_test))
"""
    )
    sdk = tmp_path / "sdk"
    score = float(run(code, sdk).stdout)

    evaluated = [(n, v) for n, v in metrics(sdk) if not n.startswith("training_")]
    assert evaluated == [("Pipeline_score_X_test", score)]
    assert params(sdk)["logisticregression__C"] == 1.0


def test_an_ensembles_members_fitted_in_threads_of_its_own_are_not_recorded(
    tmp_path: Path,
) -> None:
    code = (
        IRIS
        + """
from joblib import parallel_backend
from sklearn.ensemble import BaggingClassifier
from sklearn.tree import DecisionTreeClassifier
with parallel_backend("threading", n_jobs=2):
    BaggingClassifier(DecisionTreeClassifier(), n_estimators=4, n_jobs=2).fit(X_train, y_train)
"""
    )
    sdk = tmp_path / "sdk"
    run(code, sdk)

    assert [n for n, _ in metrics(sdk)].count("training_score") == 1
    [model] = lines(sdk / "artifacts.jsonl")
    assert model["metadata"]["estimator"] == "sklearn.ensemble._bagging.BaggingClassifier"


def test_metric_functions_on_a_models_predictions_are_recorded_with_the_datas_name(
    tmp_path: Path,
) -> None:
    code = (
        IRIS
        + """
from sklearn.metrics import accuracy_score, f1_score, precision_score
from sklearn.linear_model import LogisticRegression
model = LogisticRegression(max_iter=300).fit(X_train, y_train)
predictions = model.predict(X_test)
print(accuracy_score(y_test, predictions), f1_score(y_test, predictions, average="macro"))
precision_score(y_test, predictions, average=None)  # one a class: not one metric
accuracy_score(y_test, y_test)  # not a model's predictions
"""
    )
    sdk = tmp_path / "sdk"
    accuracy, f1 = map(float, run(code, sdk).stdout.split())

    evaluated = [(n, v) for n, v in metrics(sdk) if not n.startswith("training_")]
    assert evaluated == [("accuracy_score_X_test", accuracy), ("f1_score_X_test", f1)]


def test_metric_functions_called_through_sklearn_metrics_when_it_was_imported_first(
    tmp_path: Path,
) -> None:
    code = """
        import sklearn.metrics
        from sklearn.tree import DecisionTreeRegressor
        import boxops
        boxops.autolog()
        X, y = [[0.0], [1.0], [2.0], [3.0]], [0.0, 1.0, 2.0, 3.0]
        model = DecisionTreeRegressor().fit(X, y)
        print(sklearn.metrics.mean_absolute_error([0.5, 1.5], model.predict([[0.0], [1.0]])))
    """
    sdk = tmp_path / "sdk"
    error = float(run(code, sdk).stdout)

    assert ("mean_absolute_error", error) in metrics(sdk)  # data with no name: none in it


def test_a_regressors_training_metrics(tmp_path: Path) -> None:
    code = """
        import boxops
        boxops.autolog(log_models=False)
        from sklearn.linear_model import LinearRegression
        LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    """
    sdk = tmp_path / "sdk"
    run(code, sdk)

    found = dict(metrics(sdk))
    assert set(found) == {
        "training_score",
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
    }
    assert found["training_r2_score"] == 1.0
    assert found["training_mean_squared_error"] < 1e-20
    assert not (sdk / "artifacts.jsonl").exists()


def test_an_error_while_recording_is_said_once_and_the_fit_goes_on(tmp_path: Path) -> None:
    """The model cannot be pickled (it holds a lambda): no model file, one message, and the
    fit's own result as it would be without autolog."""
    code = """
        import boxops
        boxops.autolog()
        from sklearn.base import BaseEstimator, ClusterMixin
        class Holder(ClusterMixin, BaseEstimator):
            def __init__(self, f=None):
                self.f = f
            def fit(self, X, y=None):
                self.labels_ = [self.f(x) for x in X]
                return self
        first = Holder(lambda x: 7)
        assert first.fit([1, 2]) is first
        print(Holder(lambda x: x * 2).fit_predict([1, 2]))
    """
    sdk = tmp_path / "sdk"
    done = run(code, sdk)

    assert done.stdout.split() == ["[2,", "4]"]
    said = [x for x in done.stderr.splitlines() if x.startswith("boxops: autolog")]
    assert len(said) == 1, done.stderr
    assert "did not record the model" in said[0]
    assert params(sdk)["training_rows"] == 2  # what could be recorded was
    assert not (sdk / "artifacts.jsonl").exists()


def test_outside_a_run_autolog_records_nothing_and_says_so_once(tmp_path: Path) -> None:
    code = (
        IRIS
        + """
boxops.autolog()
from sklearn.tree import DecisionTreeClassifier
DecisionTreeClassifier().fit(X_train, y_train).score(X_test, y_test)
"""
    )
    done = run(code, tmp_path / "sdk", in_run=False)

    assert [x for x in done.stderr.splitlines() if "boxops" in x] == [
        "boxops: autolog records nothing: not in a boxops run (no BOXOPS_RUN_ID)"
    ]
    assert list(tmp_path.iterdir()) == []  # no boxops-local/ either
