"""What autolog records for a scikit-learn program, through the SDK: on a top-level fit the
estimator's params, the data's shapes, its training metrics, a search's best params and score,
and the fitted model as a file; on a top-level `score`, the evaluation score.

Every step is guarded (messages.safely): a failure is said once and the program goes on.
"""

import itertools
import platform
from pathlib import Path
from typing import Any

from boxops import sdk
from boxops.autologging import naming
from boxops.autologging.messages import safely

MODEL_KIND = "model"
MODEL_MEDIA_TYPE = "application/octet-stream"
FLAVOR = "sklearn"

_models = itertools.count(1)


def fitted(estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any], log_model: bool) -> None:
    """Everything a finished top-level fit can tell."""
    X, y = _argument(args, kwargs, 0, "X"), _argument(args, kwargs, 1, "y")
    safely("params", _params, estimator)
    safely("dataset shapes", lambda: sdk.log_params(naming.shape_params(X, y)))
    safely("training metrics", _training_metrics, estimator, X, y, kwargs.get("sample_weight"))
    if hasattr(estimator, "best_params_"):
        safely("search results", _search, estimator)
    if log_model:
        safely("model", _model, estimator)


def scored(estimator: Any, value: Any, dataset: str | None) -> None:
    """The program scored a fitted estimator on data of its choosing."""
    sdk.log_metric(naming.score_name(type(estimator).__name__, dataset), float(value))


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], place: int, name: str) -> Any:
    return args[place] if len(args) > place else kwargs.get(name)


def _params(estimator: Any) -> None:
    sdk.log_params(naming.flat_params(estimator.get_params(deep=True)))


def _training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any) -> None:
    from boxops.autologging.sklearn_metrics import training_metrics

    sdk.log_metrics(training_metrics(estimator, X, y, sample_weight))


def _search(estimator: Any) -> None:
    sdk.log_params(naming.best_params(estimator.best_params_))
    score = getattr(estimator, "best_score_", None)
    if score is not None:
        sdk.log_metric("best_cv_score", float(score))


def _model(estimator: Any) -> None:
    """The fitted estimator, joblib'd: `model` for the first fit, `model-2`, … for later ones."""
    number = next(_models)
    name = "model" if number == 1 else f"model-{number}"
    sdk.write_artifact(
        name, MODEL_KIND, ".joblib", MODEL_MEDIA_TYPE, lambda path: model_file(estimator, path)
    )


def model_file(estimator: Any, path: Path) -> dict[str, Any]:
    """Write `estimator` to `path` with joblib; its flavour and versions as the metadata."""
    import joblib
    import sklearn

    joblib.dump(estimator, path)
    kind = type(estimator)
    return {
        "flavor": FLAVOR,
        "sklearn_version": sklearn.__version__,
        "serialization": "joblib",
        "joblib_version": joblib.__version__,
        "python_version": platform.python_version(),
        "estimator": f"{kind.__module__}.{kind.__qualname__}",
    }
