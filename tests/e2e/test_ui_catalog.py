"""The datasets and models pages in a real browser on the quickstart's data: iris's versions
with their change summaries, the model's aliases and metrics, and the lineage graph that
leads from iris@2 through the retraining run to model version 2."""

from typing import TYPE_CHECKING

from tests.e2e.browser import Stack, Watched

if TYPE_CHECKING:
    from playwright.sync_api import Page

MODEL = "iris-classifier"


def drawn_edges(tab: "Page") -> set[tuple[str, str]]:
    """The arrows of the page's lineage SVG, as (from, to) node ids."""
    tab.wait_for_selector("#lineage svg.graph")
    found = tab.eval_on_selector_all(
        "#lineage polyline.edge", "edges => edges.map(e => [e.dataset.from, e.dataset.to])"
    )
    return {(source, target) for source, target in found}


def looks(tab: "Page", node: str) -> list[str]:
    return str(tab.get_attribute(f"#lineage g[data-node='{node}']", "class")).split()


def retraining_run(stack: Stack) -> str:
    """The pipeline run iris@2's arrival started (the quickstart's second)."""
    runs = [r for r in stack.client.runs(limit=100, pipeline="iris-train") if r.kind == "pipeline"]
    second = max(runs, key=lambda r: r.created_at)
    assert second.inputs["data"].version == 2
    return second.id


def test_the_lineage_of_model_2_leads_from_iris_2_through_the_run(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run = retraining_run(ui_stack)
    prepare, train = f"run:{run}-prepare", f"run:{run}-train"
    tab.goto(f"/models/{MODEL}/versions/2")
    assert (train, f"model:{MODEL}@2") in drawn_edges(tab)
    assert "more" in looks(tab, "dataset:iris-train@2")  # marked: there is more beyond

    tab.click("button[data-expand='dataset:iris-train@2']")
    tab.wait_for_selector("#lineage g[data-node='dataset:iris@2']")
    edges = drawn_edges(tab)

    assert {
        ("dataset:iris@2", prepare),
        (prepare, "dataset:iris-train@2"),
        ("dataset:iris-train@2", train),
        (train, f"model:{MODEL}@2"),
    } <= edges
    assert not any(edge[0] == "dataset:iris@1" for edge in edges)  # v1 made another model
    assert "more" not in looks(tab, "dataset:iris-train@2")
    listed = tab.locator(f".lineage-list li[data-from='dataset:iris@2'][data-to='{prepare}']")
    assert listed.count() == 1  # the list of links beside the drawing grew too
    tab.click("#lineage g[data-node='dataset:iris@2']")
    tab.wait_for_url("**/datasets/iris/versions/2")
    assert watched.problems == []


def test_the_lineage_of_iris_2_leads_down_to_model_2(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    run = retraining_run(ui_stack)
    tab.goto("/datasets/iris/versions/2")
    assert ("dataset:iris@2", f"run:{run}-prepare") in drawn_edges(tab)

    tab.click("button[data-expand='dataset:iris-train@2']")
    tab.wait_for_selector(f"#lineage g[data-node='model:{MODEL}@2']")

    assert (f"run:{run}-train", f"model:{MODEL}@2") in drawn_edges(tab)
    assert watched.problems == []


def test_the_dataset_pages_list_iris_versions_with_their_change_summaries(
    page: tuple["Page", Watched],
) -> None:
    tab, watched = page
    tab.click("header nav >> text=Datasets")
    tab.click("tr[data-dataset='iris'] >> text=iris")
    tab.wait_for_url("**/datasets/iris")
    changes = tab.locator("tr[data-version] td.changes").all_inner_texts()

    assert changes == ["1 changed, +8.7 kB, ±0 rows", "1 added, +3.9 kB, +150 rows"]
    tab.click("text=iris@2")
    tab.wait_for_url("**/datasets/iris/versions/2")
    assert "changed iris.csv" in tab.inner_text("ul.changed")
    row = tab.locator("tr[data-file='iris.csv']")
    assert row.locator("td").nth(1).inner_text() == "12.6 kB"
    assert row.locator("button", has_text="preview").count() == 1
    tab.click("text=Check for drift")
    assert tab.locator("#drift-result strong").inner_text() == "ok"
    assert watched.problems == []


def test_the_model_pages_show_aliases_and_metrics(
    ui_stack: Stack, page: tuple["Page", Watched]
) -> None:
    tab, watched = page
    set_alias = ui_stack.client.request(
        "PUT", f"/v1/models/{MODEL}/aliases/staging", json={"version": 2}
    )
    assert set_alias.status_code == 200, set_alias.text
    tab.goto("/models")
    tab.click(f"tr[data-model='{MODEL}'] >> text={MODEL}")
    tab.wait_for_url(f"**/models/{MODEL}")

    alias = tab.locator("tr[data-alias='staging']")
    assert alias.inner_text().split() == ["staging", f"{MODEL}@2"]
    versions = tab.locator("tr[data-version] td.metrics").all_inner_texts()
    assert len(versions) == 2 and all(v.startswith("train_accuracy = ") for v in versions)
    alias.locator("a").click()
    tab.wait_for_url(f"**/models/{MODEL}/versions/2")
    assert tab.inner_text("dd.aliases").strip() == "staging"
    assert tab.locator("tr[data-metric='train_accuracy'] td").nth(1).inner_text() != ""
    assert tab.locator("dd.inputs a").inner_text() == "iris-train@2"
    assert watched.problems == []


def test_an_unknown_dataset_or_model_version_is_a_404_page(page: tuple["Page", Watched]) -> None:
    tab, _ = page
    for path, said in [
        ("/datasets/nope", "no dataset 'nope'"),
        (f"/models/{MODEL}/versions/9", f"model '{MODEL}' has no version 9"),
    ]:
        answer = tab.goto(path)
        assert answer is not None and answer.status == 404
        assert said in tab.inner_text("main")
