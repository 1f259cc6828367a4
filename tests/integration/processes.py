"""Services as real processes for tests: start with settings in the environment, stop."""

import json
import os
import subprocess
import sys
from pathlib import Path


def start_service(
    name: str, home: Path, *, standby: bool = False, **settings: object
) -> subprocess.Popen[bytes]:
    """`python -m services.<name>` with BOXOPS_<KEY> for each setting; output to a log file.
    On `standby` it imports the service, touches `<home>/<label>.standby` and waits for a
    line on its stdin (`go`) to start: a restart as quick as the embedded stack's, which
    forks services already imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    for key, value in settings.items():
        env[f"BOXOPS_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    home.mkdir(parents=True, exist_ok=True)
    label = settings.get("executor_id", name)
    log = (home / f"{label}.log").open("ab")
    if standby:
        ready = home / f"{label}.standby"
        main = (
            f"import pathlib, sys, services.{name}.__main__ as m; pathlib.Path({str(ready)!r})"
            ".touch(); sys.stdin.readline(); m.main()"
        )
        command = [sys.executable, "-c", main]
    else:
        command = [sys.executable, "-m", f"services.{name}"]
    stdin = subprocess.PIPE if standby else None
    return subprocess.Popen(command, env=env, stdin=stdin, stdout=log, stderr=log)


def go(process: subprocess.Popen[bytes]) -> None:
    """Start a service waiting on standby."""
    assert process.stdin
    process.stdin.write(b"go\n")
    process.stdin.flush()
