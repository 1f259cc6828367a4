"""scikit-learn metric functions called by the program on a fitted model's predictions, as
MLflow's autolog records them: `accuracy_score(y_test, model.predict(X_test))` is the metric
`accuracy_score_X_test` (the function's name, then the name of the data the model predicted).

The predictions of top-level `predict`/`predict_proba` calls are remembered (weakly: by id,
with a weak reference telling a new object at a reused id apart); a metric function given one
of them records its result. Only the functions in `sklearn.metrics` are hooked, so one
imported by name before autolog was on (`from sklearn.metrics import f1_score` above
`boxops.autolog()` in a program that had imported scikit-learn already) is not seen.
"""

import threading
import weakref
from types import ModuleType
from typing import Any

from boxops import sdk
from boxops.autologging import naming

ENDINGS = ("_score", "_error", "_loss")
MORE = ("matthews_corrcoef",)

_predictions: dict[int, tuple[weakref.ref[Any], str | None]] = {}
_lock = threading.Lock()


def remember(prediction: Any, dataset: str | None) -> None:
    """`prediction` was made on data the program calls `dataset`."""
    key = id(prediction)
    try:
        ref = weakref.ref(prediction, lambda _: _forget(key))
    except TypeError:
        return  # a list or a tuple: nothing to know it by later
    with _lock:
        _predictions[key] = (ref, dataset)


def _forget(key: int) -> None:
    with _lock:
        _predictions.pop(key, None)


def predicted_on(values: Any) -> tuple[bool, str | None]:
    """Whether `values` is a remembered prediction, and the name of its data."""
    with _lock:
        found = _predictions.get(id(values))
    if found is None or found[0]() is not values:
        return False, None
    return True, found[1]


def metric_names(module: ModuleType) -> list[str]:
    """The functions of sklearn.metrics that compute one number from targets and predictions."""
    return [n for n in getattr(module, "__all__", ()) if n.endswith(ENDINGS) or n in MORE]


def called(name: str, result: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Metric function `name` returned `result`: recorded if it was given a remembered
    prediction and returned one number (not one per class)."""
    for value in (*args, *kwargs.values()):
        known, dataset = predicted_on(value)
        if known:
            if getattr(result, "ndim", 0) == 0:
                sdk.log_metric(naming.evaluation_name(name, dataset), float(result))
            return
