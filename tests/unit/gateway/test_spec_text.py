"""Specs shown as YAML, highlighted on the server, and the stylesheet kept in step."""

from services.gateway.ui.spec_text import CSS, highlighted, spec_yaml, stylesheet


def test_a_spec_reads_as_written_without_the_filled_in_defaults() -> None:
    stored = {
        "kind": "component",
        "name": "train",
        "command": ["python", "train.py"],
        "backend": "local",
        "retries": 0,
        "env": {},
    }
    assert spec_yaml(stored) == "kind: component\nname: train\ncommand:\n- python\n- train.py\n"


def test_highlighting_marks_keys_up_and_escapes_the_text() -> None:
    html = highlighted("name: <script>alert(1)</script>\n")
    assert '<span class="nt">name</span>' in html
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_the_highlight_stylesheet_is_the_one_pygments_makes() -> None:
    # Stale after a Pygments upgrade: python -m services.gateway.ui.spec_text writes it.
    assert CSS.read_text() == stylesheet()
