"""A spec file holding several specs: each on its own, at its lines of the file."""

from boxops.cli.documents import documents


def test_each_spec_keeps_its_lines_of_the_file() -> None:
    text = "# two triggers\n---\nkind: trigger\nname: a\n---  # the next\nkind: trigger\nname: b\n"
    first, second = documents(text)
    assert first == "\n\nkind: trigger\nname: a\n"
    assert second.splitlines()[5:] == ["kind: trigger", "name: b"]
    assert second.count("\n") == text.count("\n")


def test_one_spec_is_one_document_and_an_empty_file_none() -> None:
    assert documents("kind: trigger\nname: a\n") == ["kind: trigger\nname: a\n"]
    assert documents("---\nkind: trigger\n") == ["\nkind: trigger\n"]
    assert documents("# nothing\n---\n") == []
    assert documents("text: |\n  ---\n  indented\n") == ["text: |\n  ---\n  indented\n"]
