"""boxops: the user's side — CLI, HTTP client, embedded stack, and the SDK for black boxes.

`import boxops` stays light: the SDK (`boxops.log_metric`, `boxops.inputs`, …) is loaded
on first use.
"""

from typing import Any

__version__ = "0.1.0"

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


def __getattr__(name: str) -> Any:
    if name in SDK:
        from boxops import sdk

        # Kept as a module attribute: the next `boxops.log_metric` skips this hook (and the
        # import), which matters at tens of thousands of calls a second.
        value = globals()[name] = getattr(sdk, name)
        return value
    raise AttributeError(f"module 'boxops' has no attribute {name!r}")
