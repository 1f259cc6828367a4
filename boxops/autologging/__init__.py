"""`boxops.autolog()`: record what a scikit-learn program does with no other call.

    import boxops
    boxops.autolog()
    model = LogisticRegression(max_iter=200).fit(X_train, y_train)
    model.score(X_test, y_test)

records, for each top-level fit, the estimator's params (`get_params(deep=True)`), the
shapes of its data, its training metrics, a search's best params and score, and the fitted
model as a file (the run's artifact `model`, kind `model`, with its flavour `sklearn` and
versions as metadata); and for each `score` the program calls, the evaluation score.
naming.py says how each is named. Outside a run it does nothing and says so once.
"""

import os

from boxops.autologging.messages import say_once


def autolog(*, log_models: bool = True, disable: bool = False) -> None:
    """Record scikit-learn fits and scores in this run from now on (`disable=True`: stop).

    `log_models=False` keeps the params and metrics but not the fitted models' files."""
    if not os.environ.get("BOXOPS_RUN_ID"):
        say_once("outside", "autolog records nothing: not in a boxops run (no BOXOPS_RUN_ID)")
        return
    from boxops.autologging import sklearn_hooks

    sklearn_hooks.Settings.enabled = not disable
    sklearn_hooks.Settings.log_models = log_models
    if not disable:
        sklearn_hooks.hook()
