"""What the dataset and model pages say about versions: change summaries, pins, sizes,
links to parents, and which files get a preview button."""

from datetime import UTC, datetime
from typing import Any

from services.gateway.ui import catalog_views as views
from shared.events import DatasetChanges
from shared.registry_api import DatasetVersionView


def version(**fields: Any) -> DatasetVersionView:
    given: dict[str, Any] = {"dataset": "iris", "version": 2, "managed": True}
    return DatasetVersionView(**(given | {"created_at": datetime.now(UTC)} | fields))


def test_a_change_summary_counts_files_and_signs_the_size_and_row_deltas() -> None:
    changes = DatasetChanges(
        files_added=2, files_removed=0, files_modified=1, bytes_delta=8743, rows_delta=-3
    )
    assert views.change_summary(changes, first=False) == "2 added, 1 changed, +8.7 kB, -3 rows"


def test_a_version_that_changed_no_file_says_so() -> None:
    same = DatasetChanges(files_added=0, files_removed=0, files_modified=0, bytes_delta=0)
    assert views.change_summary(same, first=False) == "no file changed, ±0"


def test_unknown_changes_are_the_first_version_or_said_to_be_unknown() -> None:
    assert views.change_summary(None, first=True) == "first version"
    assert views.change_summary(None, first=False) == "changes not known"


def test_changed_paths_name_how_each_file_changed() -> None:
    changes = DatasetChanges(added=["b.csv"], removed=["a.csv"], modified=["c.csv"])
    assert views.changed_paths(changes) == [
        ("added", "b.csv"),
        ("removed", "a.csv"),
        ("changed", "c.csv"),
    ]
    assert views.changed_paths(None) == []


def test_an_external_version_shows_its_pin_state_and_why_it_failed() -> None:
    assert views.pin_state(version()) == ""  # managed: nothing to pin
    assert views.pin_state(version(managed=False, state="pinning")) == "pinning"
    failed = version(managed=False, state="failed", state_reason="over the size budget")
    assert views.pin_state(failed) == "failed: over the size budget"


def test_a_version_row_holds_what_the_versions_table_shows() -> None:
    external = version(managed=False, uri="file:///lake/iris.csv", run_id="r1", state="pinned")
    row = views.version_row(external)
    assert (row["kind"], row["files"], row["pin"], row["run_id"]) == (
        "external",
        "",
        "pinned",
        "r1",
    )
    assert row["changes"] == "first version"


def test_sizes_read_as_a_person_reads_them() -> None:
    assert [views.size(n) for n in (0, 999, 12621, 3_400_000, -8743)] == [
        "0 B",
        "999 B",
        "12.6 kB",
        "3.4 MB",
        "-8.7 kB",
    ]


def test_only_tables_get_a_preview_named_by_their_file_name() -> None:
    assert views.tabular("data/iris.CSV") and views.tabular("x.parquet")
    assert not views.tabular("model.pkl") and not views.tabular("README")
    assert (
        views.preview_url("ab" * 32, "data/my file.csv")
        == f"/preview/{'ab' * 32}?name=my%20file.csv"
    )


def test_parents_link_to_their_dataset_or_model_version() -> None:
    assert views.parent_link("iris-train@2") == ("iris-train@2", "/datasets/iris-train/versions/2")
    assert views.parent_link("model:clf@3") == ("model:clf@3", "/models/clf/versions/3")
    assert views.parent_link("iris") == ("iris", "/datasets/iris/versions/latest")


def test_page_links_go_to_newer_and_older_pages_only_where_there_are_some() -> None:
    assert views.page_links("/datasets", 0, 50, 10) == {"newer": None, "older": None}
    assert views.page_links("/datasets", 0, 50, 120) == {
        "newer": None,
        "older": "/datasets?offset=50",
    }
    assert views.page_links("/datasets", 100, 50, 120) == {
        "newer": "/datasets?offset=50",
        "older": None,
    }


def test_metrics_and_aliases_are_listed_in_name_order() -> None:
    assert views.metrics({"loss": 0.123456, "accuracy": 0.9}) == [
        ("accuracy", "0.9"),
        ("loss", "0.1235"),
    ]
    assert views.aliases({"staging": 3, "production": 2}) == [("production", 2), ("staging", 3)]


def test_a_list_offset_is_a_count_or_said_to_be_wrong() -> None:
    assert views.offset_of("50") == (50, None)
    for bad in ("-1", "abc", "", str(2**63)):
        assert views.offset_of(bad) == (
            0,
            f"offset {bad!r} is not a number of items to skip (0 or more)",
        )


def test_a_name_prefix_filters_unless_it_cannot_be_stored() -> None:
    assert views.name_prefix("") == (None, None)
    assert views.name_prefix("iris-") == ("iris-", None)
    assert views.name_prefix("ir\x00is") == (None, "prefix: a NUL character cannot be stored")


def test_page_links_keep_the_list_s_filters() -> None:
    assert views.page_links("/models", 0, 50, 120, {"prefix": "clf a"}) == {
        "newer": None,
        "older": "/models?prefix=clf+a&offset=50",
    }
