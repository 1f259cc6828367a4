"""One rule for every name, refused with one sentence wherever it enters: a URL path (even
holding `/` or `..`), a spec, a request body — over HTTP and from the CLI alike."""

from pathlib import Path

import pytest

from boxops.urls import api_path
from shared.names import RULE
from tests.conftest import free_port
from tests.integration.served_gateway import Served, served  # noqa: F401

BAD = ["a/../b", "../evil", "a/b", "..", "Bad Name", "-x", "x" * 201]
# A path of each kind of name; NAME is where the name goes.
PATHS = [
    ("dataset", "PUT", ["datasets", "NAME"]),
    ("dataset", "GET", ["datasets", "NAME", "versions"]),
    ("dataset", "POST", ["datasets", "NAME", "versions"]),
    ("dataset", "GET", ["datasets", "NAME", "versions", "1", "files"]),
    ("dataset", "GET", ["lineage", "datasets", "NAME", "1"]),
    ("model", "GET", ["models", "NAME", "versions", "production"]),
    ("model", "PUT", ["models", "NAME", "aliases", "production"]),
    ("model", "GET", ["lineage", "models", "NAME", "latest"]),
    ("component", "GET", ["components", "NAME"]),
    ("component", "GET", ["components", "NAME", "versions", "1"]),
    ("pipeline", "GET", ["pipelines", "NAME", "versions"]),
    ("trigger", "GET", ["triggers", "NAME", "history"]),
    ("trigger", "POST", ["triggers", "NAME", "fire"]),
    ("monitor", "POST", ["monitors", "NAME", "enable"]),
]


def refusal(kind: str, name: str) -> str:
    return f"{kind} name {name!r} {RULE}"


@pytest.mark.parametrize(("kind", "method", "segments"), PATHS)
async def test_a_bad_name_in_a_path_is_refused_naming_the_rule(
    served: Served,  # noqa: F811
    kind: str,
    method: str,
    segments: list[str],
) -> None:
    for name in BAD:
        path = api_path(*[name if s == "NAME" else s for s in segments])
        response = await served.http.request(method, path, json={"version": 1})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"] == refusal(kind, name), path


@pytest.mark.parametrize(
    ("method", "path", "kind", "name"),
    [
        ("GET", "/v1/datasets/a/b/versions", "dataset", "a/b"),
        ("PUT", "/v1/datasets/a/b", "dataset", "a/b"),
        ("GET", "/v1/datasets/a/b/c/versions/1/files", "dataset", "a/b/c"),
        ("PUT", "/v1/models/team/clf/aliases/production", "model", "team/clf"),
        ("GET", "/v1/lineage/datasets/a/b/1", "dataset", "a/b"),
        ("GET", "/v1/pipelines/a/b", "pipeline", "a/b"),
        ("POST", "/v1/monitors/a/b/enable", "monitor", "a/b"),
    ],
)
async def test_a_name_sent_with_a_bare_slash_is_refused_by_name_not_a_bare_404(
    served: Served,  # noqa: F811
    method: str,
    path: str,
    kind: str,
    name: str,
) -> None:
    """curl sends `a/b` as it is: no route matches, and the answer still names the name."""
    response = await served.http.request(method, path, json={"version": 1})
    assert (response.status_code, response.json()["detail"]) == (422, refusal(kind, name))


async def test_a_path_of_no_route_is_still_404(served: Served) -> None:  # noqa: F811
    assert (await served.http.get("/v1/nothing/a/b")).status_code == 404
    unknown = await served.http.get(api_path("datasets", "nope"))
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "no dataset 'nope'")


SPECS = {
    "components": ("component", "kind: component\nname: {}\ncommand: [x]\n"),
    "pipelines": ("pipeline", "kind: pipeline\nname: {}\nsteps: {{a: {{component: c}}}}\n"),
    "triggers": ("trigger", "kind: trigger\nname: {}\ntarget: {{command: [x]}}\n"),
    "monitors": ("monitor", "kind: monitor\nname: {}\nmetric: acc\nbelow: 0.5\n"),
}


@pytest.mark.parametrize("collection", SPECS)
async def test_a_bad_name_in_a_spec_is_refused_naming_field_line_and_rule(
    served: Served,  # noqa: F811
    collection: str,
) -> None:
    kind, spec = SPECS[collection]
    response = await served.http.post(
        api_path(collection),
        content=spec.format("'a/../b'"),
        headers={"content-type": "application/yaml"},
    )
    assert response.status_code == 422, response.text
    assert f"name (line 2): {refusal(kind, 'a/../b')}" in str(response.json()["detail"])


async def test_names_in_bodies_and_outputs_follow_the_rule(served: Served) -> None:  # noqa: F811
    parents = await served.http.post(
        api_path("datasets", "iris", "versions"), json={"uri": "s3://b/k", "parents": ["a/b@1"]}
    )
    assert parents.status_code == 422, parents.text
    assert parents.json()["detail"] == refusal("dataset", "a/b")
    output = "kind: component\nname: c\ncommand: [x]\noutputs: {m: {type: model, name: a/b}}\n"
    registered = await served.http.post(
        api_path("components"), content=output, headers={"content-type": "application/yaml"}
    )
    assert registered.status_code == 422, registered.text
    assert refusal("dataset or model", "a/b") in registered.json()["detail"]["error"]
    assert (await served.http.get(api_path("datasets"))).json()["items"] == []


async def test_names_recorded_before_the_rule_are_still_good(served: Served) -> None:  # noqa: F811
    """The registry always took upper-case names of up to 200 characters."""
    for name in ("Sales_2026.v2", "x" * 200):
        created = await served.http.put(api_path("datasets", name), json={"type": "table"})
        assert created.status_code == 200, created.text
        assert (await served.http.get(api_path("datasets", name))).json()["name"] == name


@pytest.mark.parametrize(
    ("args", "kind", "name"),
    [
        (["datasets", "push", "a/../b", "DATA"], "dataset", "a/../b"),
        (["datasets", "show", "../evil"], "dataset", "../evil"),
        (["datasets", "show", "a/b@1"], "dataset", "a/b"),
        (["models", "push", "a/b", "DATA"], "model", "a/b"),
        (["models", "show", "..@production"], "model", ".."),
        (["components", "show", "a/b@1"], "component", "a/b"),
        (["pipelines", "show", "../evil"], "pipeline", "../evil"),
        (["triggers", "history", "a/b"], "trigger", "a/b"),
        (["monitors", "show", "a/../b"], "monitor", "a/../b"),
    ],
)
async def test_the_cli_says_what_is_wrong_with_a_name_and_records_nothing(
    served: Served,  # noqa: F811
    tmp_path: Path,
    args: list[str],
    kind: str,
    name: str,
) -> None:
    data = tmp_path / "sales"
    data.mkdir()
    (data / "sales.csv").write_text("region,rows\neu,1\n")
    done = await served.boxops(*[str(data) if a == "DATA" else a for a in args])
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.splitlines() == [refusal(kind, name)]
    for collection in ("datasets", "models"):
        assert (await served.http.get(api_path(collection))).json()["items"] == []


@pytest.mark.parametrize(("kind", "command"), [("dataset", "datasets"), ("model", "models")])
async def test_a_push_under_a_bad_name_is_refused_before_anything_is_hashed_or_sent(
    served: Served,  # noqa: F811
    tmp_path: Path,
    kind: str,
    command: str,
) -> None:
    """No gateway answers here: the refusal comes before the first request."""
    (tmp_path / "f.txt").write_text("x")
    closed = served.env(BOXOPS_GATEWAY_URL=f"http://127.0.0.1:{free_port()}")
    done = await served.boxops(command, "push", "a/../b", str(tmp_path), env=closed)
    assert (done.returncode, done.stderr.splitlines()) == (2, [refusal(kind, "a/../b")])
