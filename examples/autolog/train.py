"""Autologging: a scikit-learn program whose only boxops call is `boxops.autolog()`.

In a run it records the tree's params (max_depth, …), the training data's shape, its
training metrics (training_accuracy_score, …), the test score the program asks for
(DecisionTreeClassifier_score_X_test) and the fitted model (the run's artifact `model`).
Run as `python train.py` outside boxops, it trains as usual and records nothing.
"""

from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

import boxops

boxops.autolog()

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.4f}")
