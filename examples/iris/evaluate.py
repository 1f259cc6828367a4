"""Step 3 — evaluate: score the model on the test set, through the boxops SDK.

`boxops.log_metric` records accuracy and F1 (a monitor watches accuracy), and the SDK
stores a confusion matrix and ROC and precision-recall curves as typed artifacts with
previews.
"""

import pickle

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_recall_curve, roc_curve
from sklearn.preprocessing import label_binarize

import boxops

model_dir = boxops.inputs("model")
test_dir = boxops.inputs("test")

with open(next(model_dir.rglob("model.pkl")), "rb") as file:
    saved = pickle.load(file)
model, features = saved["model"], saved["features"]
test = pd.concat(pd.read_csv(path) for path in sorted(test_dir.rglob("*.csv")))

predicted = model.predict(test[features])
accuracy = accuracy_score(test["species"], predicted)
f1 = f1_score(test["species"], predicted, average="macro")
boxops.log_metrics({"accuracy": accuracy, "f1": f1})

labels = list(model.classes_)
boxops.log_confusion_matrix(list(test["species"]), list(predicted), labels=labels)

# One-vs-rest ROC and precision-recall curves of the first class, from the predicted
# probabilities (each with its AUC).
truth = label_binarize(test["species"], classes=labels)[:, 0]
scores = np.asarray(model.predict_proba(test[features]))[:, 0]
fpr, tpr, _ = roc_curve(truth, scores)
boxops.log_curve(f"roc-{labels[0]}", list(fpr), list(tpr), x_label="FPR", y_label="TPR")
precision, recall, _ = precision_recall_curve(truth, scores)
boxops.log_curve(
    f"pr-{labels[0]}", list(recall), list(precision), x_label="recall", y_label="precision"
)

print(f"accuracy {accuracy:.3f}, macro F1 {f1:.3f} on {len(test)} test rows")
