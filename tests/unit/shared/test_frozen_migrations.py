"""A revision, once applied somewhere, must keep doing what it did: it imports libraries only,
never boxops code whose next change would rewrite an old revision's effect."""

import ast
from pathlib import Path

import pytest

REVISIONS = sorted(Path("services").glob("*/migrations/versions/*.py"))
LIBRARIES = {"alembic", "sqlalchemy", "sqlmodel", "collections", "typing", "json", "datetime"}


def imported(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or ".").split(".")[0])
    return modules


def test_there_are_revisions_to_check() -> None:
    assert len(REVISIONS) >= 4 * 2


@pytest.mark.parametrize("path", REVISIONS, ids=str)
def test_a_revision_imports_libraries_only(path: Path) -> None:
    assert imported(path) <= LIBRARIES, imported(path) - LIBRARIES
