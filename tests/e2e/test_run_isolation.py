"""The finding, through `boxops up`: a local run read the admin token through its work dir's
parents. Now neither that way nor by their paths does it see home's secrets."""

import json
from pathlib import Path

from tests.conftest import free_port
from tests.e2e.test_embedded_stack import boxops, home_env  # noqa: F401

SECRETS = ("token", "run-token-secret", "stack.json")


def test_a_run_of_boxops_up_cannot_read_the_token_the_run_token_secret_or_stack_json(
    home_env: dict[str, str],  # noqa: F811
) -> None:
    home = Path(home_env["BOXOPS_HOME"])
    started = boxops(home_env, "up", "--detach", "--port", str(free_port()))
    assert started.returncode == 0, started.stderr + started.stdout
    tries = [f"{home}/{name}" for name in SECRETS]
    tries += [f"$BOXOPS_WORKDIR/{'../' * depth}{name}" for depth in range(1, 9) for name in SECRETS]
    script = "".join(f'cat "{path}" 2>/dev/null && echo; ' for path in tries) + "echo tried"

    run = boxops(home_env, "runs", "submit", "--wait", "--json", "--", "sh", "-c", script)

    assert run.returncode == 0, run.stderr + run.stdout
    logs = boxops(home_env, "runs", "logs", json.loads(run.stdout)["id"])
    assert all((home / name).read_text().strip() for name in SECRETS)  # there to be read
    assert logs.stdout.splitlines() == ["tried"]
