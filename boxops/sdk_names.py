"""The names the SDK offers as `boxops.<name>`.

Read by `boxops/__init__.py` without loading the SDK, and by `boxops.sdk` as its `__all__`:
a module of its own, so neither of those two imports the other for the list.
"""

SDK = frozenset(
    {
        "flush",
        "inputs",
        "log_array",
        "log_artifact",
        "log_confusion_matrix",
        "log_curve",
        "log_dataframe",
        "log_json",
        "log_metric",
        "log_metrics",
        "log_param",
        "log_params",
        "outputs",
        "run_id",
        "set_tag",
    }
)
