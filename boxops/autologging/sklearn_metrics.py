"""The training metrics of a fitted scikit-learn estimator, computed on the data it was fitted
on, as MLflow's sklearn autolog computes them: its own `score`, and for a classifier
accuracy, precision, recall, F1 (weighted over classes), log loss and ROC AUC, for a regressor
MSE, RMSE, MAE and R². A metric that cannot be computed for this estimator is left out.

Loaded only once the program has fitted an estimator: it imports scikit-learn.
"""

import math
from collections.abc import Callable
from typing import Any

from sklearn import metrics
from sklearn.base import is_classifier, is_regressor

from boxops.autologging.naming import training_name

# The errors of a metric that does not apply (multilabel targets, a single class, a
# transformer without predict): that metric is skipped, the others still recorded.
NOT_APPLICABLE = (ValueError, TypeError, AttributeError, IndexError)


def training_metrics(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    """training_<metric> → value, for a supervised estimator that can predict."""
    if y is None or not hasattr(estimator, "predict"):
        return {}
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}
    found: dict[str, float] = {}
    _add(found, "score", lambda: estimator.score(X, y, **weights))
    if is_classifier(estimator):
        _classifier(found, estimator, X, y, weights)
    elif is_regressor(estimator):
        _regressor(found, estimator.predict(X), y, weights)
    return found


def _classifier(found: dict[str, float], estimator: Any, X: Any, y: Any, weights: Any) -> None:
    predicted = estimator.predict(X)
    weighted = {"average": "weighted", "zero_division": 0, **weights}
    _add(found, "accuracy_score", lambda: metrics.accuracy_score(y, predicted, **weights))
    _add(found, "precision_score", lambda: metrics.precision_score(y, predicted, **weighted))
    _add(found, "recall_score", lambda: metrics.recall_score(y, predicted, **weighted))
    _add(found, "f1_score", lambda: metrics.f1_score(y, predicted, **weighted))
    if not hasattr(estimator, "predict_proba"):
        return
    try:
        proba = estimator.predict_proba(X)
        classes = estimator.classes_
    except NOT_APPLICABLE:
        return
    _add(found, "log_loss", lambda: metrics.log_loss(y, proba, labels=classes, **weights))
    _add(found, "roc_auc", lambda: _roc_auc(y, proba, classes, weights))


def _roc_auc(y: Any, proba: Any, classes: Any, weights: Any) -> float:
    if len(classes) == 2:
        return float(metrics.roc_auc_score(y, proba[:, 1], **weights))
    return float(
        metrics.roc_auc_score(
            y, proba, multi_class="ovr", average="weighted", labels=classes, **weights
        )
    )


def _regressor(found: dict[str, float], predicted: Any, y: Any, weights: Any) -> None:
    _add(found, "mean_squared_error", lambda: metrics.mean_squared_error(y, predicted, **weights))
    mse = found.get(training_name("mean_squared_error"))
    if mse is not None:
        found[training_name("root_mean_squared_error")] = math.sqrt(mse)
    _add(found, "mean_absolute_error", lambda: metrics.mean_absolute_error(y, predicted, **weights))
    _add(found, "r2_score", lambda: metrics.r2_score(y, predicted, **weights))


def _add(found: dict[str, float], metric: str, compute: Callable[[], Any]) -> None:
    try:
        value = float(compute())
    except NOT_APPLICABLE:
        return
    if math.isfinite(value):
        found[training_name(metric)] = value
