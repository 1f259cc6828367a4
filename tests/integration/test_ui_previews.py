"""A run's artifacts and one file's preview in the web UI, as a browser without JavaScript
sees them, on a served gateway, scheduler, executor and artifact service: what a run logged
with the SDK (a CSV, a DataFrame, an image, JSON, an array, a confusion matrix, a curve),
each previewed as its kind; downloads and images with headers of their own; a big file
previewed from the artifact service's preview, never read by the page."""

import hashlib
import re
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.artifact.app import build_app as build_artifact
from services.artifact.settings import ArtifactSettings
from shared.service import Service
from tests.conftest import eventually
from tests.integration.conftest import wait_run
from tests.integration.sdk_stack import TOKEN, SdkStack, start_sdk_stack, stop_sdk_stack

PREVIEW_MAX = 4 * 1024**2

LOGGING = """
    import boxops, numpy, pandas
    from PIL import Image
    with open("table.csv", "w") as f:
        f.write("x,name\\n1,a\\n2,b\\n3,c\\n")
    boxops.log_artifact("table.csv")
    boxops.log_dataframe("frame", pandas.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]}))
    Image.new("RGB", (30, 20), (200, 0, 0)).save("red.png")
    boxops.log_artifact("red.png")
    boxops.log_json("config", {"model": {"depth": 3, "layers": [64, 32]}, "name": "iris"})
    boxops.log_array("weights", numpy.arange(6, dtype="float64").reshape(2, 3))
    boxops.log_confusion_matrix(["cat", "dog", "dog"], ["cat", "dog", "cat"], ["cat", "dog"])
    boxops.log_curve("roc", [0, 0, 1], [0, 1, 1], x_label="FPR", y_label="TPR")
"""


@pytest.fixture
async def artifact(nats_url: str, tmp_path: Path) -> AsyncIterator[Service]:
    store = tmp_path / "store"
    service = build_artifact(
        ArtifactSettings(
            nats_url=nats_url,
            home=store,
            artifact_url=(store / "blobs").as_uri(),
            artifact_port=0,
            db_url=f"sqlite+aiosqlite:///{tmp_path / 'artifact.db'}",
            preview_max_bytes=PREVIEW_MAX,
        )
    )
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def stack(nats_url: str, tmp_path: Path, artifact: Service) -> AsyncIterator[SdkStack]:
    served = await start_sdk_stack(nats_url, tmp_path / "home")
    yield served
    await stop_sdk_stack(served)


@pytest.fixture
async def browser(stack: SdkStack) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in with the login cookie alone, as the pages are."""
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        answer = await client.post("/login", data={"token": TOKEN, "next": "/runs"})
        assert answer.status_code == 303, answer.text
        yield client


async def logged_run(stack: SdkStack) -> dict[str, Any]:
    command = [sys.executable, "-c", textwrap.dedent(LOGGING)]
    answer = await stack.http.post("/v1/runs", json={"command": command})
    run = await wait_run(stack.http, answer.json()["id"], timeout=60)
    assert run["state"] == "completed", run
    return run


async def previewed(browser: httpx.AsyncClient, route: str) -> str:
    """The fragment once no preview in it is still being made."""

    async def made() -> str | None:
        answer = await browser.get(route)
        assert answer.status_code == 200, answer.text
        return None if "being made" in answer.text else answer.text

    return str(await eventually(made, timeout=30, interval=0.5))


def sha_of(run: dict[str, Any], name: str) -> str:
    return next(str(a["sha256"]) for a in run["artifacts"] if a["name"] == name)


async def test_a_runs_artifacts_are_each_previewed_as_their_kind(
    stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    run = await logged_run(stack)

    section = await previewed(browser, f"/runs/{run['id']}/artifacts")

    assert '<link rel="stylesheet" href="/static/previews.css">' in section
    # The CSV: its schema, row count and rows.
    assert '<th scope="col">x <span class="dtype">int64</span></th>' in section
    assert '<th scope="col">name <span class="dtype">string</span></th>' in section
    assert "3 rows · 2 columns · csv" in section and "<td>b</td>" in section
    # The DataFrame, as Parquet.
    assert "2 rows · 2 columns · parquet" in section
    assert '<th scope="col">a <span class="dtype">double</span></th>' in section
    # The confusion matrix: labelled rows and columns, each cell's count and shade.
    assert '<th scope="col">cat</th><th scope="col">dog</th>' in section
    assert '<th scope="row">dog</th>' in section
    cell = '<td class="heat heat-3" title="actual dog, predicted cat: 1 (50% of dog)">1</td>'
    assert cell in section
    assert "Accuracy 66.7%" in section
    # The JSON as a tree, the array's shape and stats, the curve's data and AUC.
    assert '<span class="key">depth</span>: <span class="json-number">3</span>' in section
    assert '<details open><summary><span class="key">model</span>' in section
    assert "2 \u00d7 3 (6 values)" in section and "<dt>mean</dt><dd>2.5</dd>" in section
    assert "AUC 1.000" in section and "data-curve='" in section
    # The image: from a route of its own.
    red = sha_of(run, "red.png")
    assert f'<img class="preview-image" src="/blobs/{red}/image"' in section
    for artifact in run["artifacts"]:
        assert f'href="/blobs/{artifact["sha256"]}?name=' in section


async def test_previews_the_artifact_service_cannot_answer_now_are_asked_for_again(
    stack: SdkStack, artifact: Service, browser: httpx.AsyncClient
) -> None:
    run = await logged_run(stack)
    table = sha_of(run, "table.csv")
    await artifact.stop()

    section = await browser.get(f"/runs/{run['id']}/artifacts")
    fragment = await browser.get(f"/preview/{table}?name=table.csv")

    assert section.status_code == 200
    assert section.text.count('hx-trigger="every 2s"') == len(run["artifacts"])
    assert fragment.status_code == 200 and "<h4>table.csv</h4>" in fragment.text
    assert f'hx-get="/preview/{table}?name=table.csv" hx-trigger="every 2s"' in fragment.text


async def test_an_image_and_a_download_come_with_their_own_type_and_guard_headers(
    stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    run = await logged_run(stack)
    red, table = sha_of(run, "red.png"), sha_of(run, "table.csv")
    await previewed(browser, f"/preview/{red}")

    image = await browser.get(f"/blobs/{red}/image")
    download = await browser.get(f"/blobs/{table}?name=out/table.csv")
    not_an_image = await browser.get(f"/blobs/{table}/image")

    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert download.content == b"x,name\n1,a\n2,b\n3,c\n"
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''table.csv"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert not_an_image.status_code == 404


async def test_an_svg_is_never_shown_and_unknown_files_are_a_404(
    stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    sha = await put(stack, svg, "logo.svg", "image/svg+xml")

    fragment = await previewed(browser, f"/preview/{sha}?name=logo.svg")
    image = await browser.get(f"/blobs/{sha}/image")
    unknown = await browser.get(f"/preview/{'0' * 64}")
    bad = await browser.get("/preview/nope")
    no_run = await browser.get("/runs/nope/artifacts")
    no_bytes = await browser.get(f"/blobs/{'0' * 64}?name=x")

    assert "<h4>logo.svg</h4>" in fragment and "No preview:" in fragment
    assert "<svg" not in fragment and "<script>alert" not in fragment
    assert image.status_code == 404
    assert unknown.status_code == 404 and f"no stored file with sha256 {'0' * 64}" in unknown.text
    assert bad.status_code == 404 and "not a sha256 digest" in bad.text
    assert no_run.status_code == 404 and "no run with id &#39;nope&#39;" in no_run.text
    assert no_bytes.status_code == 404


async def test_a_big_file_is_previewed_from_its_summary_and_downloaded_as_a_stream(
    stack: SdkStack, browser: httpx.AsyncClient
) -> None:
    rows = 200_000
    big = b"n,double\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(rows))
    too_big = b"n\n" + b"0\n" * (PREVIEW_MAX // 2 + 1)
    sha = await put(stack, big, "big.csv", "text/csv")
    unpreviewed = await put(stack, too_big, "huge.csv", "text/csv")

    fragment = await previewed(browser, f"/preview/{sha}?name=big.csv")
    no_preview = await previewed(browser, f"/preview/{unpreviewed}?name=huge.csv")
    async with browser.stream("GET", f"/blobs/{sha}?name=big.csv") as download:
        digest = hashlib.sha256()
        async for chunk in download.aiter_bytes():
            digest.update(chunk)

    assert len(big) > 2_000_000 and len(fragment) < 20_000  # the page holds its summary
    assert "200,000 rows · 2 columns · csv · the first 20 rows" in fragment
    assert len(re.findall("<tr>", fragment)) == 21  # the header and 20 rows
    assert "No preview for this kind of file" in no_preview and "4.0 MiB" in no_preview
    assert digest.hexdigest() == sha


async def put(stack: SdkStack, data: bytes, name: str, media_type: str) -> str:
    sha = hashlib.sha256(data).hexdigest()
    answer = await stack.http.put(
        f"/v1/artifacts/{sha}", content=data, params={"name": name, "media_type": media_type}
    )
    assert answer.status_code == 201, answer.text
    return sha
