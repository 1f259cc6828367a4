"""`boxops creds create`: bus credentials for another system, allowed only public subjects."""

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from boxops.cli.common import console, fail
from boxops.home import home, nats_pid_file, read_state, saved_nats_url

creds_app = typer.Typer(help="Bus credentials for other systems.", no_args_is_help=True)


@creds_app.command("create")
def create(
    publish: Annotated[
        list[str],
        typer.Option(
            "--publish",
            help="A subject it may publish (repeat for more): dataset.version.created, "
            "metric.logged, metrics.logged, alert.firing, alert.resolved, or ext.… "
            "(wildcards only under ext.).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (0600), not stdout.")
    ] = None,
) -> None:
    """A new ingress identity: a credentials file of NATS_URL, NATS_USER, NATS_PASSWORD and
    NATS_INBOX_PREFIX lines (a shell can source it; the nats CLI reads those variables)."""
    # Imported here: the event catalog is a tenth of a second other commands need not pay.
    from boxops import bus_auth

    root = home()
    try:
        identity = bus_auth.add_ingress(root, tuple(publish))
    except ValueError as error:
        fail(f"--publish: {error}")
    state = read_state(root)
    nats_url = state.nats_url if state else saved_nats_url(root) or "nats://127.0.0.1:4222"
    bus_auth.write_all(root, nats_url)
    if state:
        _reload_nats(root)
    text = bus_auth.credentials(identity, nats_url)
    if out is None:
        typer.echo(text, nl=False)
        return
    bus_auth.write_private(out, text)
    console.print(f"wrote {out} ({identity.user}: may publish {', '.join(identity.publish)})")


def _reload_nats(root: Path) -> None:
    """The running NATS server reads its config again, new identity included (SIGHUP)."""
    try:
        os.kill(int(nats_pid_file(root).read_text()), signal.SIGHUP)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        fail("the running NATS server could not be told to reload; run boxops down and up")
