"""Services as real processes for tests: start with settings in the environment, stop."""

import json
import os
import subprocess
import sys
from pathlib import Path


def start_service(name: str, home: Path, **settings: object) -> subprocess.Popen[bytes]:
    """`python -m services.<name>` with BOXOPS_<KEY> for each setting; output to a log file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env["BOXOPS_HOME"] = str(home)
    for key, value in settings.items():
        env[f"BOXOPS_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    home.mkdir(parents=True, exist_ok=True)
    label = settings.get("executor_id", name)
    log = (home / f"{label}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"], env=env, stdout=log, stderr=log
    )
