"""Schemathesis against the live gateway's OpenAPI document with the admin token: a 5xx, or an
answer its document does not allow, fails. No executor runs, so no fuzzed run is executed.

BOXOPS_FUZZ_SECONDS sets the time budget; BOXOPS_FUZZ_SEED another seed than CI's (a run
prints its seed, and `curl` lines that reproduce each failure).
"""

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.live_gateway import live_gateway

SECONDS = int(os.environ.get("BOXOPS_FUZZ_SECONDS", "150"))
SEED = os.environ.get("BOXOPS_FUZZ_SEED", "16")  # the same cases each CI run, as far as it gets
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.mark.timeout(SECONDS + 180)
def test_every_fuzzed_request_gets_an_answer_its_openapi_document_allows(tmp_path: Path) -> None:
    with live_gateway(tmp_path / "home") as gateway:
        fuzzed = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{gateway.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {gateway.token}",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-time",
                str(SECONDS),
                "--workers",
                "1",  # Python 3.11's ast.parse is not thread-safe, which hypothesis calls
                "--request-timeout",
                "30",
                "--seed",
                SEED,
            ],
            cwd=tmp_path,  # its own files (.hypothesis, reports) stay out of the checkout
            capture_output=True,
            text=True,
            timeout=SECONDS + 120,
        )
        runs = httpx.get(
            f"{gateway.url}/v1/runs",
            params={"limit": 1000},
            headers={"Authorization": f"Bearer {gateway.token}"},
        ).json()
    report = fuzzed.stdout[-20000:] + fuzzed.stderr[-5000:]
    assert fuzzed.returncode == 0, report + "\nwhat the services logged:\n" + faults(gateway.home)
    assert "Test cases:" in fuzzed.stdout, fuzzed.stdout
    executed = [run for run in runs if run["executor_id"] or run["state"] == "running"]
    assert executed == [], "a fuzzed run was executed"


def faults(home: Path) -> str:
    """The exceptions the services logged (their tracebacks are in home/*.log)."""
    lines = {
        f"{log.stem}: {line}"
        for log in home.glob("*.log")
        for line in log.read_text(errors="replace").splitlines()
        if "Error: " in line and not line.startswith(" ")
    }
    return "\n".join(sorted(lines)[:50])
