"""Autolog's names and values: params made flat and storable, metric names, data shapes."""

import math

import numpy

from boxops.autologging import naming


def scale(x: float) -> float:
    return x


class Estimator:
    def __repr__(self) -> str:
        return "Estimator(depth=3)"


def test_nested_params_keep_their_names_and_dicts_are_spread_out() -> None:
    params = {"clf__C": 0.5, "class_weight": {0: 1, 1: 2}, "param_grid": {"max_depth": [1, 2]}}

    assert naming.flat_params(params) == {
        "clf__C": 0.5,
        "class_weight.0": 1,
        "class_weight.1": 2,
        "param_grid.max_depth": [1, 2],
    }


def test_values_that_are_not_plain_become_text_that_names_them() -> None:
    values = {
        "estimator": Estimator(),
        "scorer": scale,
        "dtype": numpy.float32,
        "alpha": numpy.float64(0.25),
        "n": numpy.int64(7),
        "tol": math.inf,
        "empty": {},
        "steps": [("scale", Estimator())],
    }

    assert naming.flat_params(values) == {
        "estimator": "Estimator(depth=3)",
        "scorer": f"{__name__}.scale",
        "dtype": "numpy.float32",
        "alpha": 0.25,
        "n": 7,
        "tol": "inf",
        "empty": "{}",
        "steps": "[('scale', Estimator(depth=3))]",
    }


def test_a_long_value_is_cut_short() -> None:
    value = naming.param_value("x" * 1000)
    assert value == "x" * 1000  # a string is kept as it is

    text = naming.param_value(list(range(1000)))
    assert isinstance(text, str)
    assert len(text) == naming.REPR_CHARS
    assert text.endswith("…")


def test_a_searchs_best_params_are_prefixed() -> None:
    assert naming.best_params({"max_depth": 3, "clf__C": 1.0}) == {
        "best_max_depth": 3,
        "best_clf__C": 1.0,
    }


def test_a_score_is_named_after_the_estimator_and_the_datas_variable() -> None:
    assert naming.score_name("LogisticRegression", "X_test") == "LogisticRegression_score_X_test"
    assert naming.score_name("LogisticRegression", None) == "LogisticRegression_score"
    assert naming.evaluation_name("accuracy_score", "X_test") == "accuracy_score_X_test"
    assert naming.evaluation_name("accuracy_score", None) == "accuracy_score"
    assert naming.training_name("f1_score") == "training_f1_score"


def test_shapes_of_arrays_frames_and_lists() -> None:
    assert naming.shape_params(numpy.zeros((5, 4)), numpy.zeros(5)) == {
        "training_rows": 5,
        "training_columns": 4,
        "training_y_shape": [5],
    }
    assert naming.shape_params([[1, 2, 3], [4, 5, 6]], ["a", "b"]) == {
        "training_rows": 2,
        "training_columns": 3,
        "training_y_shape": [2],
    }
    assert naming.shape_params(["some text", "more"], None) == {"training_rows": 2}
    assert naming.shape_params(numpy.zeros((2, 3, 4)), None)["training_columns"] == 12
    assert naming.shape_params(object(), None) == {}
