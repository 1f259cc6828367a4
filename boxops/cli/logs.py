"""`boxops logs SERVICE [-f]`: a service's log of the embedded stack."""

from typing import Annotated

import typer

from boxops.cli.common import fail
from boxops.home import home, log_file
from boxops.stack import SERVICES
from boxops.tail import follow, last_lines

LOGGED = (*SERVICES, "nats")


def logs(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(LOGGED)}.")],
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Go on printing new lines until Ctrl-C.")
    ] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="Last lines to show.")] = 50,
) -> None:
    """Show a service's log of the embedded stack (`boxops logs scheduler -f`)."""
    if service not in LOGGED:
        fail(f"no service {service!r}: choose one of {', '.join(LOGGED)}")
    path = log_file(home(), service)
    offset = 0
    if path.exists():
        shown, offset = last_lines(path, lines)
        for line in shown:
            typer.echo(line)
    elif not follow_:
        fail(f"no log of {service} yet at {path} (has `boxops up` run?)")
    if follow_:
        try:
            for line in follow(path, offset):
                typer.echo(line)
        except KeyboardInterrupt:
            return  # Ctrl-C is how following ends
