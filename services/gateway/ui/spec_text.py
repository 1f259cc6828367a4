"""A registered spec as people read it: YAML, syntax-highlighted by Pygments on the server
(the page needs no script for it). Its colours are static/highlight.css, which
`python -m services.gateway.ui.spec_text` writes."""

from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer

from shared.specs import ComponentSpec, PipelineSpec

CSS_CLASS = "highlight"
STYLE = "default"
CSS = Path(__file__).parent / "static" / "highlight.css"


def spec_yaml(spec: dict[str, Any]) -> str:
    """The spec as registered, without the defaults the registry filled in (as it digests
    it): what its author wrote, in the models' field order."""
    model = PipelineSpec if spec.get("kind") == "pipeline" else ComponentSpec
    parsed = model.model_validate(spec)
    written = {"kind": parsed.kind} | parsed.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(written, sort_keys=False, allow_unicode=True, width=100)


def highlighted(text: str) -> Markup:
    """YAML as HTML: Pygments escapes the text and marks its tokens up."""
    html = highlight(text, YamlLexer(), HtmlFormatter(cssclass=CSS_CLASS, style=STYLE))
    return Markup(html)  # noqa: S704 — Pygments' output, every piece of the text escaped


def stylesheet() -> str:
    return str(HtmlFormatter(style=STYLE).get_style_defs(f".{CSS_CLASS}")) + "\n"


if __name__ == "__main__":
    CSS.write_text(stylesheet())
