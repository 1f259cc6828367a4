"""`boxops components register FILE.py` against a served gateway and registry: each
declared component is registered with its command filled in for this machine and the git
commit and path of its folder, as a YAML file in that folder would be."""

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.served_gateway import Served, served  # noqa: F401

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python"


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(EXAMPLE), *args], capture_output=True, text=True)
    return done.stdout.strip()


async def test_a_python_file_registers_its_components_with_their_code_reference(
    served: Served,  # noqa: F811
) -> None:
    done = await served.boxops("components", "register", str(EXAMPLE / "flow.py"), "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    answers = json.loads(done.stdout)
    assert [(a["name"], a["version"], a["created"]) for a in answers] == [
        ("fit_tree", 1, True),
        ("score_tree", 1, True),
    ]

    spec = (await served.http.get("/v1/components/fit_tree")).json()["spec"]
    assert spec["command"] == [
        sys.executable,
        "-m",
        "boxops.entry",
        "--path",
        str(EXAMPLE),
        "flow:fit_tree",
    ]
    assert spec["code"]["commit"] == git("rev-parse", "HEAD")
    assert spec["code"]["path"] == "examples/python"

    again = await served.boxops("components", "register", str(EXAMPLE / "flow.py"))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "component fit_tree@1 unchanged: the same spec is registered already",
        "component score_tree@1 unchanged: the same spec is registered already",
    ]


async def test_a_python_file_registers_its_components_then_its_pipeline_pinned_to_them(
    served: Served,  # noqa: F811
) -> None:
    done = await served.boxops("pipelines", "register", str(EXAMPLE / "flow.py"))
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.splitlines() == [
        "registered component fit_tree@1",
        "registered component score_tree@1",
        "registered pipeline iris_tree@1",
    ]
    pipeline = (await served.http.get("/v1/pipelines/iris_tree")).json()
    pins = {step: f"{c['name']}@{c['version']}" for step, c in pipeline["components"].items()}
    assert pins == {"fit_tree": "fit_tree@1", "score_tree": "score_tree@1"}
