"""A small black box to search over: a decision tree on the iris table bundled with
scikit-learn, scored by 5-fold cross-validation. No boxops import: params arrive as
BOXOPS_PARAM_* variables, and `::metric` lines on stdout record the score, once per fold
(step) as it goes and once at the end, so a sweep's pruner sees the curve."""

import os

from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

params = {
    name[len("BOXOPS_PARAM_") :].lower(): v
    for name, v in os.environ.items()
    if name.startswith("BOXOPS_PARAM_")
}
tree = DecisionTreeClassifier(
    max_depth=int(params["max_depth"]),
    min_samples_leaf=int(params["min_samples_leaf"]),
    criterion=params["criterion"],
    random_state=0,
)
features, species = load_iris(return_X_y=True)
scores = []
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
for step, (train, test) in enumerate(folds.split(features, species)):
    tree.fit(features[train], species[train])
    scores.append(tree.score(features[test], species[test]))
    print(f"::metric name=accuracy value={sum(scores) / len(scores):.4f} step={step}")
print(f"::metric name=accuracy value={sum(scores) / len(scores):.4f}")
