"""The registry's CLI against a served gateway, the registry and the artifact service:
push, pull, link, verify, lineage, models, components and pipelines, with --json."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.artifact.app import build_app as build_artifact
from services.artifact.settings import ArtifactSettings
from services.gateway.app import build_app as build_gateway
from services.gateway.settings import GatewaySettings
from services.registry.app import build_app as build_registry
from services.registry.settings import RegistrySettings
from tests.conftest import free_port, service_db, wait_port


@dataclass
class Served:
    env: dict[str, str]
    blobs: Path

    async def boxops(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "boxops.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    async def json(self, *args: str) -> Any:
        return json.loads((await self.boxops(*args, "--json")).stdout)


@pytest.fixture
async def served(nats_url: str, db: tuple[str, str], tmp_path: Path) -> AsyncIterator[Served]:
    url, schema = db
    home, blobs = tmp_path / "home", tmp_path / "blobs"
    common: dict[str, Any] = {"nats_url": nats_url, "home": home}
    registry = build_registry(
        RegistrySettings(**common, db_url=url, db_schema=schema, external_file_roots=[tmp_path])
    )
    artifact_db = service_db(db, "artifact")
    artifact = build_artifact(
        ArtifactSettings(
            **common,
            db_url=artifact_db[0],
            db_schema=artifact_db[1],
            artifact_url=blobs.as_uri(),
            artifact_port=0,
        )
    )
    port = free_port()
    gateway = build_gateway(GatewaySettings(**common, api_token="secret"))
    server = uvicorn.Server(uvicorn.Config(gateway, port=port, log_level="warning"))
    await registry.start()
    await artifact.start()
    serving = asyncio.create_task(server.serve())
    await asyncio.to_thread(wait_port, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOPS_")}
    env |= {
        "BOXOPS_GATEWAY_URL": f"http://127.0.0.1:{port}",
        "BOXOPS_API_TOKEN": "secret",
        "BOXOPS_HOME": str(home),
        "COLUMNS": "200",
    }
    yield Served(env, blobs)
    server.should_exit = True
    await serving
    await artifact.stop()
    await registry.stop()


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@t"]
    done = subprocess.run(
        ["git", "-C", str(repo), *identity, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def leftovers(folder: Path, prefix: str) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(prefix)]


COMPONENT = """kind: component
name: train
type: training
command: [python, train.py]
inputs:
  data: {type: dataset}
outputs:
  model: {type: model}
"""
BROKEN = """kind: pipeline
name: flow
steps:
  a:
    component: train
    inputs:
      data: "{{ steps.b.outputs.model }}"
  b:
    component: train
    inputs:
      data: "{{ steps.a.outputs.model }}"
"""


async def test_components_and_pipelines_register_list_show_and_refuse(
    served: Served, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "train").mkdir(parents=True)
    spec = repo / "train" / "component.yaml"
    spec.write_text(COMPONENT)
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "train"]):
        await asyncio.to_thread(git, repo, *command)
    first = await served.boxops("components", "register", str(spec))
    assert "registered component train@1" in first.stdout
    again = await served.boxops("components", "register", str(spec))
    assert "train@1 unchanged" in again.stdout
    shown = await served.json("components", "show", "train@1")
    assert shown["spec"]["code"]["commit"] == await asyncio.to_thread(
        git, repo, "rev-parse", "HEAD"
    )
    assert shown["spec"]["code"]["path"] == "train"
    listed = await served.json("components", "list")
    assert [(c["name"], c["version"]) for c in listed] == [("train", 1)]

    flow = tmp_path / "flow.yaml"
    flow.write_text(BROKEN)
    refused = await served.boxops("pipelines", "register", str(flow), ok=False)
    assert refused.returncode == 2
    assert (
        "steps.a.inputs.data (line 7): steps.b.outputs.model is a model, but the input "
        "takes a dataset" in refused.stderr
    )
    assert "cycle: a → b → a" in refused.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: component\nname: tr/ain\ncommand: []\n")
    local = await served.boxops("components", "register", str(bad), ok=False)
    assert "name (line 2): component name 'tr/ain' may only contain letters" in local.stderr
    assert "command (line 3): List should have at least 1 item" in local.stderr
    assert await served.json("pipelines", "list") == []


async def test_push_pull_and_a_second_push_of_the_same_folder(
    served: Served, tmp_path: Path
) -> None:
    data = tmp_path / "iris"
    (data / "raw").mkdir(parents=True)
    (data / "iris.csv").write_text("a,b,kind\n1,2.5,x\n3,4.5,y\n")
    for i in range(20):
        (data / "raw" / f"{i:02d}.txt").write_text(f"line {i}\n")
    pushed = await served.json("datasets", "push", "iris", str(data), "--meta", "owner=ml")
    assert (pushed["version"], pushed["created"], pushed["file_count"]) == (1, True, 21)
    assert pushed["metadata"]["rows"] == 2 and pushed["metadata"]["owner"] == "ml"
    same = await served.boxops("datasets", "push", "iris", str(data))
    assert "no new version: the same data is iris@1 already" in same.stdout

    (data / "raw" / "00.txt").write_text("changed\n")
    (data / "raw" / "99.txt").write_text("new\n")
    (data / "iris.csv").write_text("a,b,kind\n1,2.5,x\n3,4.5,y\n5,6.5,z\n")
    second = await served.boxops("datasets", "push", "iris", str(data))
    assert "recorded iris@2 (after 1: 1 added, 2 modified, rows +1)" in second.stdout

    out = tmp_path / "pulled"
    await served.boxops("datasets", "pull", "iris@1", str(out))
    assert (out / "iris.csv").read_text() == "a,b,kind\n1,2.5,x\n3,4.5,y\n"
    assert sorted(p.name for p in (out / "raw").iterdir()) == [f"{i:02d}.txt" for i in range(20)]
    busy = await served.boxops("datasets", "pull", "iris@1", str(out), ok=False)
    assert "exists and is not an empty folder" in busy.stderr

    listed = await served.json("datasets", "list")
    assert [(d["name"], d["latest_version"], d["type"]) for d in listed] == [("iris", 2, "table")]
    shown = await served.json("datasets", "show", "iris@2", "--files", "--limit", "2")
    assert shown["changes"]["files_added"] == 1 and len(shown["files"]) == 2


async def test_a_pull_whose_blob_fails_its_digest_leaves_nothing_behind(
    served: Served, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (data / name).write_text(name * 1000)
    pushed = await served.json("datasets", "push", "docs", str(data))
    files = await served.json("datasets", "show", "docs@1", "--files")
    target = files["files"][1]["sha256"]
    [stored] = [p for p in served.blobs.rglob(target) if p.is_file()]
    stored.write_bytes(b"b.txt" * 1000 + b"tampered")

    out = tmp_path / "out"
    failed = await served.boxops("datasets", "pull", "docs", str(out), ok=False)
    assert failed.returncode == 2
    assert f"pull failed, nothing was written to {out}: b.txt:" in failed.stderr.replace("\n", "")
    assert not out.exists()
    assert leftovers(tmp_path, ".out") == []
    assert pushed["version"] == 1


async def test_link_verify_lineage_and_models(served: Served, tmp_path: Path) -> None:
    table = tmp_path / "sales.csv"
    table.write_text("region,rows\neu,1\n")
    made_up = "sha256:" + "0" * 64
    wrong = await served.boxops(
        "datasets", "link", "sales", table.as_uri(), "--digest", made_up, ok=False
    )
    assert wrong.returncode == 1
    assert f"sales@1 failed: digest mismatch: declared {made_up}" in wrong.stderr
    linked = await served.json("datasets", "link", "sales", table.as_uri(), "--meta", "k=v")
    assert (linked["version"], linked["state"]) == (2, "pinned")  # link waits for the hashing
    assert linked["metadata"]["columns"] == [
        {"name": "region", "type": "string"},
        {"name": "rows", "type": "int"},
    ]
    assert "sales@2: ok" in (await served.boxops("datasets", "verify", "sales@2")).stdout
    table.write_text("region,rows\neu,2\n")
    drift = await served.boxops("datasets", "verify", "sales@2", ok=False)
    assert drift.returncode == 1 and "drift" in drift.stdout

    weights = tmp_path / "model"
    weights.mkdir()
    (weights / "model.onnx").write_bytes(b"onnx" * 100)
    pushed = await served.json(
        "models", "push", "clf", str(weights), "--metric", "acc=0.9", "--parent", "sales@2"
    )
    assert (pushed["version"], pushed["format"], pushed["metrics"]) == (1, "onnx", {"acc": 0.9})
    aliased = await served.boxops("models", "alias", "clf", "1", "production")
    assert "clf@production → version 1" in aliased.stdout
    shown = await served.json("models", "show", "clf@production")
    assert shown["aliases"] == ["production"]
    out = tmp_path / "weights"
    await served.boxops("models", "pull", "clf@production", str(out))
    assert (out / "model.onnx").read_bytes() == b"onnx" * 100

    tree = await served.json("datasets", "lineage", "sales@2")
    assert [n["ref"] for n in tree["downstream"]] == ["clf@1"]
    printed = await served.boxops("models", "lineage", "clf@1")
    assert "dataset sales@2" in printed.stdout


async def test_verify_finds_a_managed_version_whose_blob_was_deleted(
    served: Served, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("a" * 100)
    (data / "b.txt").write_text("b" * 100)
    await served.json("datasets", "push", "docs", str(data))
    assert "docs@1: ok" in (await served.boxops("datasets", "verify", "docs@1")).stdout
    shown = await served.json("datasets", "show", "docs@1", "--files")
    gone = shown["files"][0]
    headers = {"Authorization": "Bearer secret"}
    async with httpx.AsyncClient(base_url=served.env["BOXOPS_GATEWAY_URL"]) as http:
        deleted = await http.delete(f"/v1/artifacts/{gone['sha256']}", headers=headers)
        assert deleted.status_code == 200, deleted.text
    found = await served.boxops("datasets", "verify", "docs@1", "--json", ok=False)
    drift = json.loads(found.stdout)
    assert (found.returncode, drift["status"]) == (1, "drift")
    assert drift["differences"] == [f"missing a.txt (sha256 {gone['sha256']})"]
