"""A two-step pipeline declared in Python: fit a decision tree on the iris table, score it.

    boxops pipelines register flow.py     # registers fit_tree, score_tree, then iris_tree
    boxops pipelines export flow.py       # the pipeline's YAML: iris_tree.yaml here
    boxops runs submit iris_tree -i data=iris@1 --wait

The YAML files in this folder are its twin, as `boxops components export flow.py` and
`boxops pipelines export flow.py` print them: registering either gives the same versions.
Each function runs in its own run, through `python -m boxops.entry`; scikit-learn is
imported inside the functions, so registering this file does not load it.
"""

import pickle
from pathlib import Path
from typing import Any

import boxops


@boxops.component(
    type="training",
    outputs={"model": boxops.Model("iris-tree")},
    resources={"cpu": 0.5, "memory_mb": 512},
)
def fit_tree(data: boxops.Dataset, max_depth: int = 3) -> Path:
    """Fit a decision tree on the iris table; the pickled tree becomes a model version."""
    from sklearn.tree import DecisionTreeClassifier

    table = _table(data)
    features = [column for column in table.columns if column != "species"]
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=0)
    tree.fit(table[features], table["species"])
    boxops.log_metric("train_accuracy", tree.score(table[features], table["species"]))
    path = Path("model.pkl")
    path.write_bytes(pickle.dumps({"model": tree, "features": features}))
    return path


@boxops.component(
    type="evaluation",
    outputs={"scores": boxops.Metrics()},
    resources={"cpu": 0.5, "memory_mb": 512},
)
def score_tree(model: boxops.Model, test: boxops.Dataset) -> dict[str, float]:
    """Score the tree on a table; its accuracy is the run's metric."""
    saved = pickle.loads(next(Path(model).rglob("model.pkl")).read_bytes())
    table = _table(test)
    accuracy = saved["model"].score(table[saved["features"]], table["species"])
    return {"accuracy": float(accuracy)}


@boxops.pipeline
def iris_tree(data: boxops.Dataset, max_depth: int = 3) -> None:
    """Fit a decision tree on the iris table and score it."""
    fitted = fit_tree(data=data, max_depth=max_depth)
    score_tree(model=fitted.outputs.model, test=data)


def _table(folder: Path) -> Any:
    """Every CSV file of a dataset version, as one table."""
    import pandas as pd

    return pd.concat(pd.read_csv(path) for path in sorted(Path(folder).rglob("*.csv")))
