"""What autolog calls things: params made flat and storable, metric names, data shapes.

Pure logic: no scikit-learn import, so it is tested (and `import boxops` stays) light.

    params        get_params(deep=True) as given (`clf__C`), a dict value spread out with
                  '.' (`class_weight.1`), anything else not JSON-plain as its short repr
    training      training_score, training_accuracy_score, …, training_r2_score
    evaluation    <Estimator>_score_<X's variable name>  (LogisticRegression_score_X_test),
                  <metric function>_<X's variable name>  (accuracy_score_X_test, for
                  accuracy_score(y_test, model.predict(X_test))); without the suffix when
                  the data has no name in the calling code
    search        best_<param> params, best_cv_score metric
    data          training_rows, training_columns, training_y_shape
"""

import math
from collections.abc import Mapping
from typing import Any

REPR_CHARS = 250
LIST_ITEMS = 100


def flat_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Params as run params: one name per value, each value JSON-plain."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_params(value, f"{name}."))
        else:
            flat[name] = param_value(value)
    return flat


def param_value(value: Any) -> Any:
    """A value as a run param: None, bool, int, finite float, str, or a short list of those;
    anything else (an estimator, an array, a callable) as text that names it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return param_value(value.item())  # a numpy scalar
    if isinstance(value, (list, tuple)) and len(value) <= LIST_ITEMS and all(map(_plain, value)):
        return [param_value(v) for v in value]
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"  # a repr would show its address
    return short(repr(value))


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def short(text: str) -> str:
    return text if len(text) <= REPR_CHARS else text[: REPR_CHARS - 1] + "…"


def best_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A search's best_params_ as `best_<name>` params."""
    return flat_params(params, "best_")


def evaluation_name(metric: str, dataset: str | None) -> str:
    """A metric the program computed on data it calls `dataset`: `accuracy_score_X_test`."""
    return f"{metric}_{dataset}" if dataset else metric


def score_name(estimator: str, dataset: str | None) -> str:
    """The metric of `estimator.score(X, y)` called by the program on data named `dataset`."""
    return evaluation_name(f"{estimator}_score", dataset)


def training_name(metric: str) -> str:
    return f"training_{metric}"


def shape_of(data: Any) -> list[int] | None:
    """The shape of an array, a DataFrame, a sparse matrix or a list of rows; None if it has
    none that can be told."""
    shape = getattr(data, "shape", None)
    if shape is not None:
        try:
            return [int(n) for n in shape]
        except (TypeError, ValueError):
            return None
    try:
        rows = len(data)
    except TypeError:
        return None
    first = data[0] if rows else None
    if first is None or isinstance(first, (str, bytes)) or not hasattr(first, "__len__"):
        return [rows]
    return [rows, len(first)]


def shape_params(X: Any, y: Any) -> dict[str, Any]:
    """training_rows and training_columns of X, training_y_shape of y (when given)."""
    found: dict[str, Any] = {}
    shape = shape_of(X)
    if shape:
        found["training_rows"] = shape[0]
        if len(shape) > 1:
            found["training_columns"] = math.prod(shape[1:])
    target = shape_of(y) if y is not None else None
    if target:
        found["training_y_shape"] = target
    return found
