"""What boxops reads from table files cheaply: columns, types and row counts."""

from pathlib import Path

import pytest

from shared.datafiles import describe, describe_table, walk


def test_a_csv_gives_its_columns_guessed_types_and_rows(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    rows = "".join(f"{i},{i / 2},{i % 2 == 0},name {i},\n" for i in range(2500))
    table.write_text("id,score,even,label,empty\n" + rows)
    assert describe_table(table) == {
        "format": "csv",
        "columns": [
            {"name": "id", "type": "int"},
            {"name": "score", "type": "float"},
            {"name": "even", "type": "bool"},
            {"name": "label", "type": "string"},
            {"name": "empty", "type": "string"},
        ],
        "rows": 2500,
    }


def test_a_parquet_file_gives_its_schema_and_row_count(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}), path)
    assert describe_table(path) == {
        "format": "parquet",
        "columns": [{"name": "a", "type": "int64"}, {"name": "b", "type": "string"}],
        "rows": 3,
    }
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    assert describe_table(tmp_path / "broken.parquet") == {}


def test_tables_with_the_same_columns_add_their_rows_and_others_give_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.csv").write_text("x,y\n3,4\n5,6\n")
    (tmp_path / "notes.txt").write_text("hello")
    paths = [p for _, _, p in walk(tmp_path)]
    assert describe(paths)["rows"] == 3
    (tmp_path / "c.csv").write_text("other\n1\n")
    assert describe(p for _, _, p in walk(tmp_path)) == {}
    assert describe([tmp_path / "notes.txt"]) == {}


def test_walk_lists_files_relative_and_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref")
    assert [rel for rel, _, _ in walk(tmp_path)] == ["a.txt", "b/z.txt"]
    assert [rel for rel, _, _ in walk(tmp_path / "a.txt")] == ["a.txt"]
