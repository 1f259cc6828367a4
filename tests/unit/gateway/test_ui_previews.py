"""The artifact previews' views: heatmap cells, JSON trees, tables, array stats, curves and
the files of a run, made from the artifact service's preview documents."""

from datetime import UTC, datetime

from services.gateway.ui import previews_views as views
from shared.queries import RunView
from shared.run_parts import FileEntry, RunArtifact, RunOutput

SHA = "a" * 64


def test_a_confusion_matrix_cell_shows_its_count_and_is_shaded_by_its_share_of_the_row() -> None:
    shown = views.view(
        SHA,
        "ready",
        {"kind": "confusion_matrix", "labels": ["cat", "dog"], "matrix": [[8.0, 2.0], [0, 10]]},
    )

    assert shown["labels"] == ["cat", "dog"]
    (cat, cat_cells, cat_total), (dog, dog_cells, _) = shown["rows"]
    assert (cat, cat_total, dog) == ("cat", "10", "dog")
    assert [(c.text, c.shade, c.hit) for c in cat_cells] == [("8", 4, True), ("2", 1, False)]
    assert [(c.text, c.shade) for c in dog_cells] == [("0", 0), ("10", 5)]
    assert cat_cells[1].title == "actual cat, predicted dog: 2 (20% of cat)"
    assert shown["accuracy"] == "90.0%"


def test_a_huge_confusion_matrix_is_cut_to_its_first_classes_and_says_so() -> None:
    n = views.CLASSES + 3
    matrix = [[1 if i == j else 0 for j in range(n)] for i in range(n)]
    shown = views.heatmap(SHA, {"labels": [str(i) for i in range(n)], "matrix": matrix})

    assert len(shown["rows"]) == views.CLASSES and len(shown["rows"][0][1]) == views.CLASSES
    assert shown["hidden"] == 3
    assert shown["accuracy"] == "100.0%"  # of all of it, not of what is drawn


def test_json_becomes_a_tree_of_keys_with_typed_leaves_and_branch_summaries() -> None:
    root = views.tree({"name": "iris", "sizes": [1, 2.5], "ok": True, "none": None, "e": {}})

    assert (root.type, root.text) == ("object", "5 keys")
    name, sizes, ok, none, empty = root.children
    assert (name.key, name.type, name.text) == ("name", "string", '"iris"')
    assert (sizes.type, sizes.text) == ("array", "2 items")
    assert [(c.key, c.text) for c in sizes.children] == [("0", "1"), ("1", "2.5")]
    assert (ok.text, none.type, empty.text, empty.children) == ("true", "null", "{}", ())


def test_a_json_document_too_big_for_a_tree_shows_its_beginning() -> None:
    shown = views.view(SHA, "ready", {"kind": "json", "truncated": True, "size": 9, "text": "{"})

    assert (shown["tree"], shown["text"], shown["size"]) == (None, "{", 9)


def test_a_table_has_its_schema_row_count_and_first_rows_as_text() -> None:
    doc = {
        "kind": "dataframe",
        "format": "csv",
        "columns": [{"name": "x", "type": "double"}, {"name": "s", "type": "string"}],
        "column_count": 102,
        "rows": 123456,
        "head": [{"x": 0.123456789, "s": "a"}, {"x": None, "s": "b"}],
    }
    shown = views.view(SHA, "ready", doc)

    assert shown["columns"] == [("x", "double"), ("s", "string")]
    assert shown["rows"] == "123,456"
    assert shown["head"] == [["0.1235", "a"], ["", "b"]]
    assert shown["hidden_columns"] == 100


def test_an_array_shows_shape_dtype_and_stats_formatted() -> None:
    doc = {"kind": "array", "shape": [2, 3], "dtype": "float64", "first": [0.5, 1.0]}
    shown = views.view(SHA, "ready", doc | {"min": 0.5, "max": 1e6, "mean": 1 / 3})

    [(name, array)] = shown["arrays"]
    assert (name, array["shape"], array["size"], array["dtype"]) == (
        "",
        "2 \u00d7 3",
        "6",
        "float64",
    )
    assert array["stats"] == [("min", "0.5"), ("max", "1,000,000"), ("mean", "0.3333")]
    assert array["first"] == "0.5, 1"


def test_the_arrays_of_an_npz_are_each_summarised() -> None:
    doc = {"kind": "array", "format": "npz", "array_count": 3, "arrays": {"w": {"shape": []}}}
    shown = views.view(SHA, "ready", doc)

    assert [(n, a["shape"]) for n, a in shown["arrays"]] == [("w", "scalar")]
    assert shown["more"] == 2


def test_numbers_and_sizes_read_as_people_write_them() -> None:
    assert [views.number(v) for v in (None, 3, 3.0, 1234567, 0.000123456, True)] == [
        "—",
        "3",
        "3",
        "1,234,567",
        "0.0001235",
        "True",
    ]
    assert [views.size(n) for n in (0, 1023, 1536, 5 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "5.0 GiB",
    ]


def test_a_curve_keeps_its_vertical_steps_for_a_chart_that_aligns_by_x() -> None:
    doc = {
        "kind": "curve",
        "title": "roc",
        "x_label": "FPR",
        "y_label": "TPR",
        "x": [0.0, 0.0, 0.5, 0.5, 1.0],
        "y": [0.0, 0.8, 0.8, 1.0, 1.0],
        "auc": 0.9,
    }
    shown = views.view(SHA, "ready", doc)

    [series] = shown["spec"]["series"]
    assert len(set(series["x"])) == 5 and series["x"] == sorted(series["x"])
    assert series["y"] == [0.0, 0.8, 0.8, 1.0, 1.0]
    assert (shown["auc"], shown["points"], shown["spec"]["xLabel"]) == ("0.900", "5", "FPR")
    assert views.view(SHA, "ready", doc | {"auc": None})["auc"] is None


def test_an_image_is_served_only_in_a_format_browsers_show_else_its_thumbnail() -> None:
    png = views.view(SHA, "ready", {"kind": "image", "format": "PNG", "width": 3, "height": 2})
    thumbnail = "data:image/png;base64,AAAA"
    tiff = views.view(SHA, "ready", {"kind": "image", "format": "TIFF", "thumbnail": thumbnail})
    odd = views.view(SHA, "ready", {"kind": "image", "format": "SVG", "thumbnail": "javascript:x"})

    assert png["src"] == f"/blobs/{SHA}/image"
    assert tiff["src"] == thumbnail
    assert odd["src"] is None


def test_previews_not_made_failed_or_of_unknown_kinds_say_so() -> None:
    assert views.view(SHA, "pending", None) == {"kind": "pending"}
    assert views.view(SHA, "none", None) == {"kind": "none"}
    failed = views.view(SHA, "failed", {"kind": "array", "error": "bad magic"})
    assert failed == {"kind": "failed", "error": "bad magic"}
    assert views.view(SHA, "ready", {"kind": "hologram"}) == {"kind": "none"}


def test_a_run_lists_its_logged_artifacts_then_its_outputs_grouped_and_capped() -> None:
    logged = RunArtifact(name="cm", kind="confusion_matrix", path="cm.json", size=5, sha256=SHA)
    files = [FileEntry(path=f"part-{i}.csv", size=i, sha256=f"{i:064x}") for i in range(300)]
    run = RunView(
        id="r",
        state="completed",
        command=["true"],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        artifacts=[logged],
        outputs={"train": RunOutput(type="dataset", name="iris-train", files=files)},
    )
    shown = views.listing(views.run_files(run))

    [(first, [cm]), (second, parts)] = shown.groups
    assert (first, cm.name, cm.size_text) == ("Logged with the SDK", "cm", "5 B")
    assert (second, len(parts), shown.more) == ("Output train", views.FILES - 1, 301 - views.FILES)
    assert len(shown.inline) == views.INLINE and SHA in shown.inline
    assert parts[0].download == f"/blobs/{0:064x}?name=part-0.csv"
    assert cm.preview == f"/preview/{SHA}?name=cm"
    assert views.File("not asked yet", SHA, None).size_text == ""


def test_a_download_is_named_by_the_file_whatever_characters_it_holds() -> None:
    assert views.disposition("out/train.csv") == "attachment; filename*=UTF-8''train.csv"
    assert views.disposition('a "b";\r\n.txt') == (
        "attachment; filename*=UTF-8''a%20%22b%22%3B%0D%0A.txt"
    )
