"""The datasets and models pages against a served registry, artifact store and gateway, as a
browser without JavaScript sees them: versions with their change summaries, files with a
preview button for tables, external versions' pins and drift, models' aliases, metrics, run
and inputs, the lineage graph's edges (also listed as links), and 404 pages."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.envelope import Envelope, body_for, headers_for
from shared.events import FileEntry, InputRef, RunCompleted, RunOutput
from tests.conftest import eventually
from tests.integration.registry.conftest import Registry, start_registry, stop_registry
from tests.integration.sdk_stack import SdkStack, sdk_stack_fixture  # noqa: F401


@pytest.fixture
async def registry(nats_url: str, tmp_path: Path) -> AsyncIterator[Registry]:
    """The pages read nothing but the registry's answers: one database dialect will do."""
    db = (f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}", "main")
    running = await start_registry(nats_url, db, tmp_path / "home")
    yield running
    await stop_registry(running)


async def page(registry: Registry, path: str, status: int = 200) -> str:
    answer = await registry.http.get(path)
    assert answer.status_code == status, answer.text
    assert "text/html" in answer.headers["content-type"]
    return answer.text


async def files(registry: Registry, **contents: bytes) -> list[dict[str, Any]]:
    shas = await registry.stored(*contents.values())
    return [
        {"path": path, "size": len(content), "sha256": sha}
        for (path, content), sha in zip(contents.items(), shas, strict=True)
    ]


async def post(registry: Registry, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await registry.http.post(path, json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()  # type: ignore[no-any-return]


async def iris(registry: Registry) -> list[dict[str, Any]]:
    """iris@1 (one table), iris@2 (the table changed, a binary file added)."""
    first = await files(registry, **{"iris.csv": b"a,b\n1,2\n"})
    await post(registry, "/v1/datasets/iris/versions", {"files": first})
    second = await files(registry, **{"iris.csv": b"a,b\n1,2\n3,4\n", "notes.bin": b"\x00\x01"})
    await post(registry, "/v1/datasets/iris/versions", {"files": second})
    return second


async def trained(
    registry: Registry, inputs: dict[str, InputRef] | None = None, name: str = "clf"
) -> None:
    """A run read iris@2 (or `inputs`) and made clf@1, as the scheduler reports it."""
    model = await files(registry, **{"model.pkl": name.encode()})
    run = RunCompleted(
        run_id=f"run-{name}",
        state="completed",
        at=datetime.now(UTC),
        reason="exit code 0",
        component="train@1",
        inputs=inputs or {"data": InputRef(type="dataset", name="iris", version=2)},
        outputs={
            "model": RunOutput(
                type="model",
                name=name,
                files=[FileEntry.model_validate(f) for f in model],
                metrics={"accuracy": 0.9312},
            )
        },
    )
    envelope = Envelope(id=f"ev-{name}", source="boxops/scheduler", time=run.at, data=run)
    await registry.js.publish("run.completed", body_for(envelope), headers=headers_for(envelope))

    async def recorded() -> bool:
        return (await registry.http.get(f"/v1/models/{name}/versions/1")).status_code == 200

    await eventually(recorded)


def edges(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'<li data-from="([^"]+)" data-to="([^"]+)">', html))


async def test_the_datasets_pages_show_versions_with_their_changes_and_files(
    registry: Registry,
) -> None:
    second = await iris(registry)

    listed = await page(registry, "/datasets")
    dataset = await page(registry, "/datasets/iris")
    version = await page(registry, "/datasets/iris/versions/2")

    assert 'href="/datasets/iris"' in listed and 'href="/datasets/iris/versions/2"' in listed
    assert 'href="/datasets/iris/versions/1"' in dataset
    changes = re.findall(r'<td class="changes">([^<]*)</td>', dataset)
    assert changes == ["1 added, 1 changed, +6 B", "1 added, +8 B"]  # newest first
    assert "added</span> <code>notes.bin</code>" in version
    assert "changed</span> <code>iris.csv</code>" in version
    table, binary = (f for f in sorted(second, key=lambda f: f["path"]))
    assert f'title="{table["sha256"]}">{table["sha256"][:12]}<' in version
    assert f'hx-get="/preview/{table["sha256"]}?name=iris.csv"' in version
    assert f"/preview/{binary['sha256']}" not in version  # not a table: no preview
    assert "<td>12 B</td>" in version


async def test_an_external_version_shows_its_pin_and_a_drift_check_finds_the_change(
    registry: Registry,
) -> None:
    data = registry.lake / "lake.csv"
    data.write_text("a\n1\n")
    await post(registry, "/v1/datasets/lake/versions", {"uri": data.as_uri()})
    await registry.settled("lake", 1)
    outside = registry.lake.parent / "elsewhere.csv"
    outside.write_text("x\n")
    folder = registry.lake / "linked"
    folder.mkdir()
    (folder / "out.csv").symlink_to(outside)
    await post(registry, "/v1/datasets/linked/versions", {"uri": folder.as_uri()})
    await registry.settled("linked", 1)

    version = await page(registry, "/datasets/lake/versions/1")
    same = await page(registry, "/datasets/lake/versions/1/drift")
    data.write_text("a\n1\n2\n")
    drifted = await page(registry, "/datasets/lake/versions/1/drift")
    failed = await page(registry, "/datasets/linked")

    assert '<span class="pin pin-pinned">pinned</span>' in version
    assert data.as_uri() in version
    assert 'hx-get="/datasets/lake/versions/1/drift"' in version
    assert "Drift check: <strong>ok</strong>" in same
    assert "Drift check: <strong>drift</strong>" in drifted and "<li>size: 4 → 6</li>" in drifted
    assert "pin-failed" in failed
    assert f"failed: {folder.as_uri()}: out.csv links outside the external file roots" in failed


async def test_the_models_pages_show_aliases_metrics_the_run_and_its_inputs(
    registry: Registry,
) -> None:
    await iris(registry)
    await trained(registry)
    alias = await registry.http.put("/v1/models/clf/aliases/production", json={"version": 1})
    assert alias.status_code == 200, alias.text

    listed = await page(registry, "/models")
    filtered = await page(registry, "/models?prefix=zz")
    model = await page(registry, "/models/clf")
    version = await page(registry, "/models/clf/versions/production")

    assert 'href="/models/clf"' in listed and '<span class="alias">production</span> → 1' in listed
    assert 'href="/models/clf"' not in filtered
    assert "No models whose name starts with “zz”." in filtered
    assert '<tr data-alias="production">' in model
    assert 'href="/models/clf/versions/1">clf@1</a>' in model
    assert "accuracy = 0.9312" in model
    assert "<h1>Model clf@1</h1>" in version
    assert '<tr data-metric="accuracy"><td>accuracy</td><td>0.9312</td></tr>' in version
    assert '<a href="/runs/run-clf">run run-clf</a>' in version
    assert '<a href="/datasets/iris/versions/2">iris@2</a>' in version


async def test_version_pages_hold_their_lineage_and_expand_answers_more_of_it(
    registry: Registry,
) -> None:
    await iris(registry)
    await trained(registry)

    model = await page(registry, "/models/clf/versions/1")
    dataset = await page(registry, "/datasets/iris/versions/2")
    expanded = await registry.http.get("/lineage", params={"node": "run:run-clf", "depth": 1})

    flow = {("dataset:iris@2", "run:run-clf"), ("run:run-clf", "model:clf@1")}
    assert edges(model) == flow and edges(dataset) == flow
    assert '"root": "model:clf@1"' in model  # the graph lineage.js draws
    assert expanded.status_code == 200
    assert {(e["from"], e["to"]) for e in expanded.json()["edges"]} == flow
    assert {n["id"]: n["href"] for n in expanded.json()["nodes"]} == {
        "run:run-clf": "/runs/run-clf",
        "dataset:iris@2": "/datasets/iris/versions/2",
        "model:clf@1": "/models/clf/versions/1",
    }


async def test_unknown_names_and_versions_are_404_pages_and_bad_lineage_asks_say_why(
    registry: Registry,
) -> None:
    await iris(registry)
    missing = {
        "/datasets/nope": "no dataset &#39;nope&#39;",
        "/datasets/iris/versions/9": "iris",
        "/datasets/iris/versions/abc": "iris@abc",
        "/models/nope": "no model &#39;nope&#39;",
        "/models/nope/versions/1": "nope",
    }
    for path, said in missing.items():
        assert said in await page(registry, path, 404), path
    bad = await registry.http.get("/lineage", params={"node": "iris@2"})
    unknown = await registry.http.get("/lineage", params={"node": "dataset:nope@1"})

    assert bad.status_code == 400
    assert bad.json()["error"].startswith("node 'iris@2' is not a lineage node")
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]


async def test_a_bad_filter_is_a_message_and_every_asset_is_served_from_here(
    registry: Registry,
) -> None:
    await iris(registry)
    await trained(registry)
    await post(registry, "/v1/datasets/other/versions", {"uri": "s3://b/other"})
    only_iris = await page(registry, "/datasets?prefix=ir")
    bad_prefix = await page(registry, "/datasets?prefix=ir%00")
    assert 'href="/datasets/iris"' in only_iris and 'href="/datasets/other"' not in only_iris
    assert 'name="prefix" value="ir"' in only_iris
    assert "prefix: a NUL character cannot be stored" in bad_prefix
    assert 'href="/datasets/other"' in bad_prefix  # unfiltered all the same
    bad = await page(registry, "/datasets/iris?offset=-1")
    assert "offset &#39;-1&#39; is not a number of items to skip (0 or more)" in bad
    assert 'href="/datasets/iris/versions/2"' in bad  # the first page all the same
    for path in ("/datasets", "/datasets/iris/versions/2", "/models", "/models/clf/versions/1"):
        assets = re.findall(r'(?:src|href)="([^"]+)"', await page(registry, path))
        assert [a for a in assets if re.match(r"(https?:)?//", a)] == [], path
        for asset in (a for a in assets if a.startswith("/static/")):
            assert (await registry.http.get(asset)).status_code == 200, asset


async def test_the_pages_ask_for_a_login_and_the_lineage_json_for_a_token(
    sdk_stack: SdkStack,
) -> None:
    async with httpx.AsyncClient(base_url=sdk_stack.url) as browser:
        pages = [await browser.get(p) for p in ("/datasets", "/models/clf/versions/1")]
        asked = await browser.get("/lineage", params={"node": "run:x"})

    assert [(p.status_code, p.headers["location"]) for p in pages] == [
        (303, "/login?next=/datasets"),
        (303, "/login?next=/models/clf/versions/1"),
    ]
    assert (asked.status_code, asked.json()) == (401, {"error": "sign in first"})


async def test_a_lineage_too_big_to_send_is_a_message_on_a_page_that_still_loads(
    registry: Registry,
) -> None:
    wide = {f"i{n}": InputRef(type="dataset", name=f"d{n}", version=1) for n in range(8000)}
    await trained(registry, wide, name="wide")

    shown = await page(registry, "/models/wide/versions/1")
    expanded = await registry.http.get("/lineage", params={"node": "model:wide@1"})

    assert "the lineage 2 hops around model:wide@1 is too large to draw" in shown
    assert "<h1>Model wide@1</h1>" in shown
    assert expanded.status_code == 413 and "exceeds what NATS carries" in expanded.json()["error"]
