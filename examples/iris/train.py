"""Step 2 — train: fit a random forest; the model file becomes a model version.

No boxops import here either: params arrive as BOXOPS_PARAM_* variables (they are also
rendered into the command line), and a `::metric` line on stdout records a metric.
"""

import os
import pickle
from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestClassifier

train_dir = Path(os.environ["BOXOPS_INPUTS"]) / "train"
model_dir = Path(os.environ["BOXOPS_OUTPUTS"]) / "model"
max_depth = int(os.environ["BOXOPS_PARAM_MAX_DEPTH"])
n_estimators = int(os.environ["BOXOPS_PARAM_N_ESTIMATORS"])

train = pd.concat(pd.read_csv(path) for path in sorted(train_dir.rglob("*.csv")))
features = [column for column in train.columns if column != "species"]
model = RandomForestClassifier(max_depth=max_depth, n_estimators=n_estimators, random_state=0)
model.fit(train[features], train["species"])

model_dir.mkdir(parents=True, exist_ok=True)
with open(model_dir / "model.pkl", "wb") as file:
    pickle.dump({"model": model, "features": features}, file)

print(f"trained a forest of {n_estimators} trees, depth {max_depth}")
print(f"::metric name=train_accuracy value={model.score(train[features], train['species']):.4f}")
print(f"::param name=features value={len(features)}")
