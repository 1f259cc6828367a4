"""External file:// data only under the declared roots."""

from pathlib import PurePosixPath as P

from services.registry.domain.roots import refusal


def test_a_path_under_a_root_is_accepted() -> None:
    assert refusal("file:///lake/iris", P("/lake/iris"), [P("/srv"), P("/lake")]) is None
    assert refusal("file:///lake", P("/lake"), [P("/lake")]) is None


def test_a_path_outside_every_root_is_refused_naming_the_roots() -> None:
    assert refusal("file:///etc/shadow", P("/etc/shadow"), [P("/lake"), P("/srv")]) == (
        "file:///etc/shadow: outside the external file roots (/lake, /srv)"
    )


def test_a_sibling_with_the_root_as_prefix_is_outside() -> None:
    assert refusal("file:///lake2/x", P("/lake2/x"), [P("/lake")]) is not None


def test_without_roots_no_file_data_is_accepted() -> None:
    assert refusal("file:///lake/x", P("/lake/x"), []) == (
        "file:///lake/x: file:// data is not accepted here "
        "(no BOXOPS_EXTERNAL_FILE_ROOTS are declared)"
    )
