"""boxops: the user's side — CLI, HTTP client, embedded stack, and the SDK for black boxes.

`import boxops` stays light: the SDK (`boxops.log_metric`, `boxops.inputs`, …) and the
gateway's client (`boxops.Client`, `boxops.GatewayError`) are loaded on first use.
"""

from typing import Any

from boxops.sdk_names import SDK

__version__ = "0.1.0"


CLIENT = ("Client", "GatewayError")


def __getattr__(name: str) -> Any:
    if name in CLIENT:
        from boxops import client

        return getattr(client, name)
    if name == "autolog":
        from boxops.autologging import autolog

        return autolog
    if name in SDK:
        from boxops import sdk

        # Kept as a module attribute: the next `boxops.log_metric` skips this hook (and the
        # import), which matters at tens of thousands of calls a second.
        value = globals()[name] = getattr(sdk, name)
        return value
    raise AttributeError(f"module 'boxops' has no attribute {name!r}")
