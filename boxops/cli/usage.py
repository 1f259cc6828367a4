"""Running the `boxops` command so that typer's own usage errors (a missing argument, an
unknown option, a path that does not exist) read like every other error: one red line, exit 2.

typer vendors click and does not re-export click's exceptions: this module alone imports
them from `typer._click` (typer is bounded in pyproject.toml; the errors are tested end to
end in tests/integration/test_cli_errors.py).
"""

from typing import Any

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from boxops.cli.common import say_error


def run(app: typer.Typer) -> int:
    """The exit code of running `app` on the command line."""
    try:
        code: Any = app(standalone_mode=False)
    except NoArgsIsHelpError as error:
        error.show()  # the help itself, as typer shows it
        return error.exit_code
    except UsageError as error:
        where = f" (see `{error.ctx.command_path} --help`)" if error.ctx else ""
        say_error(error.format_message().rstrip(".") + where)
        return error.exit_code
    except typer.Abort:
        say_error("aborted")
        return 1
    return code if isinstance(code, int) else 0
