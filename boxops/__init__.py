"""boxops: the user's side — CLI, HTTP client, embedded stack, and the SDK for black boxes.

`import boxops` stays light: the SDK (`boxops.log_metric`, `boxops.inputs`, …) and the
gateway's clients (`boxops.Client`, `boxops.AsyncClient`, `boxops.GatewayError`) and the
decorators declaring components and pipelines (`boxops.component`, `boxops.Dataset`, …) and
`boxops.autolog` are loaded on first use.
"""

from typing import Any

from boxops.sdk_names import SDK

__version__ = "0.1.0"


CLIENT = ("Client", "GatewayError")
DECLARE = ("component", "pipeline", "Dataset", "Model", "File", "Metrics", "DeclarationError")


def __getattr__(name: str) -> Any:
    if name in CLIENT:
        from boxops import client

        return getattr(client, name)
    if name == "AsyncClient":
        from boxops import async_client

        return async_client.AsyncClient
    if name in DECLARE:
        from boxops import declare

        return getattr(declare, name)
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
