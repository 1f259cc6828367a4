"""`boxops ui`: where the web UI is, opened in a browser when one can be shown."""

import os
import sys
from typing import Annotated

import typer

from boxops.cli.common import client, err, fail
from boxops.home import home, read_state


def ui(
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open it in a browser, if one can show.")
    ] = True,
) -> None:
    """Print the web UI's URL and open it in a browser, signed in (a one-time link made with
    your token). Elsewhere, log in with the API token: `$BOXOPS_HOME/token`."""
    url = f"{_gateway_url()}/runs"
    print(url)
    if open_browser and _can_show():
        import webbrowser  # only for this command: it costs every other one start-up time

        webbrowser.open(_signed_in(url))


def _signed_in(url: str) -> str:
    """A one-time link that signs the browser in; the plain URL if the gateway cannot
    make one (the login page asks for the token then)."""
    from boxops.client import GatewayError

    try:
        with client() as gateway:
            return gateway.login_link()
    except GatewayError as error:
        err.print(f"opening the login page: no sign-in link ({error})", markup=False)
        return url


def _gateway_url() -> str:
    given = os.environ.get("BOXOPS_GATEWAY_URL")
    if given:
        return given.rstrip("/")
    state = read_state(home())
    if state is None:
        fail(f"boxops is not running under {home()}: start it with `boxops up`")
    return state.gateway_url


def _can_show() -> bool:
    """A desktop to show a browser on: always on macOS and Windows, elsewhere a display."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
