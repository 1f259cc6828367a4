"""How long a `boxops` command takes, as a whole process, the way a person types it.

`boxops --help`, `boxops runs list` and `boxops status` each run ROUNDS times as their own
process, the last two against a live embedded stack holding a few runs. The medians stand
next to a bare `python -c pass` timed in the same rounds: interpreter start-up is a floor
no change to boxops can lower, and the machine's load moves both alike.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.embedded import embedded
from boxops.home import api_token

ROUNDS = 10
RUNS = 10  # in the stack, so `runs list` prints a table with rows
BOXOPS = (sys.executable, "-m", "boxops.cli.main")
COMMANDS = {
    "python -c pass": (sys.executable, "-c", "pass"),
    "boxops --help": (*BOXOPS, "--help"),
    "boxops runs list": (*BOXOPS, "runs", "list"),
    "boxops status": (*BOXOPS, "status"),
}


async def main() -> None:
    with embedded() as (home, state, _):
        _submit(home, state.gateway_url)
        medians = _medians(_timings(_env(home)))
    bare = medians["python -c pass"]
    for name, median in medians.items():
        over = "" if name == "python -c pass" else f"  (+{median - bare:6.1f} ms over bare)"
        print(f"{name:<40} median of {ROUNDS} {median:8.1f} ms{over}")


def _env(home: Path) -> dict[str, str]:
    """This environment, pointed at the benchmark's stack and at nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    return env | {"BOXOPS_HOME": str(home)}


def _submit(home: Path, gateway_url: str) -> None:
    headers = {"Authorization": f"Bearer {api_token(home)}"}
    with httpx.Client(base_url=gateway_url, headers=headers) as http:
        for _ in range(RUNS):
            http.post("/v1/runs", json={"command": ["true"]}).raise_for_status()


def _timings(env: dict[str, str]) -> dict[str, list[float]]:
    """Wall seconds per command; the commands alternate, so a burst of load hits them all."""
    timings: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(ROUNDS):
        for name, command in COMMANDS.items():
            began = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            timings[name].append(time.perf_counter() - began)
    return timings


def _medians(timings: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(seconds) * 1000 for name, seconds in timings.items()}
