"""What every CLI command group shares: consoles, JSON output, errors, the gateway client.

Every error of every command reads the same and comes from here: `fail(message)` prints
the message alone — no "Error:", no HTTP status, no traceback — in red, on one line of
stderr (never wrapped, a spec's several problems joined by "; "), and exits 2. The gateway's
refusals (`call()`) and an unreachable or absent gateway (`client()`) go through it with
the gateway's own message: `no run with id 'nope'`, `dataset name 'a/b' may only contain …`.

typer's own usage errors (a missing argument, an unknown option) read the same, shown with
`say_error` by `boxops.cli.usage`.

Exit codes: 0 done; 1 done, and the answer is "no" (a run that did not complete, a dataset
that drifted, a service that does not answer); 2 the command could not do what was asked.
"""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from boxops.home import home

if TYPE_CHECKING:
    from boxops.client import Client

console = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def print_json(value: Any) -> None:
    """Machine-readable output: plain JSON, never wrapped or coloured."""
    sys.stdout.write(json.dumps(value, indent=2) + "\n")


def fail(message: str) -> NoReturn:
    """The command cannot do what was asked: one red line on stderr, exit 2."""
    say_error(message)
    raise typer.Exit(2)


def say_error(message: str) -> None:
    """The message as every error is shown: red, one line of stderr, never wrapped."""
    err.print(message, style="red", markup=False, highlight=False, soft_wrap=True)


def read_spec(path: Path) -> str:
    """The text of a YAML (or JSON) spec file, checked to parse before anything is sent."""
    import yaml  # here: PyYAML is a fiftieth of every command's start, few read a spec

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        fail(f"{path}: not UTF-8 text (byte {error.start})")
    except OSError as error:
        fail(f"{path}: {error.strerror}")
    try:
        yaml.safe_load(text)
    except yaml.YAMLError as error:
        # Imported here: the spec models are a tenth of a second of every command's start.
        from shared.specs import yaml_problem

        fail(f"{path}, {yaml_problem(error)}")
    return text


# The gateway client is imported when a command calls the gateway: httpx costs every
# other command (`--help`, `status`, `logs`) a tenth of a second at start-up.
def client() -> "Client":
    """The gateway of the running stack (or BOXOPS_GATEWAY_URL); exit 2 if there is none."""
    from boxops.client import Client, GatewayError

    try:
        return Client.from_env(home())
    except GatewayError as error:
        fail(str(error))


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the gateway; a refusal or an unreachable gateway is a message and exit 2."""
    from boxops.client import GatewayError

    try:
        return fn(*args, **kwargs)
    except GatewayError as error:
        fail(str(error))


def pairs(items: list[str], option: str) -> dict[str, str]:
    """NAME=VALUE options into a dict."""
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"{option}: expected NAME=VALUE, got {item!r}")
        result[name] = value
    return result
