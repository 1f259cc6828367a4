"""Registering a spec file: its placeholders filled in, checked here with the registry's
models, sent, and the answer printed — for YAML files and the YAML a Python file declares.

PyYAML and the spec models are imported by the functions that use them: every `boxops`
command imports this module at start-up.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

from boxops.cli.common import console, fail, print_json, read_spec
from boxops.cli.registry import gateway_call


def register_spec(
    file: Path, kind: str, json_out: bool, extra: dict[str, Any] | None = None
) -> None:
    """Check the spec here (same models as the registry), then register it."""
    report(post_spec(spec_text(file), str(file), kind, extra), kind, json_out)


def post_spec(text: str, label: str, kind: str, extra: dict[str, Any] | None) -> Any:
    """Register one spec's YAML text (`extra` fields laid over it); the registry's answer.
    A spec refused here or by the registry is a message naming `label`, exit 2."""
    import yaml

    # Imported here: the spec models are a tenth of a second of start-up for every command.
    from shared.specs import ComponentSpec, PipelineSpec, SpecError, load

    model = ComponentSpec if kind == "component" else PipelineSpec
    try:
        load(text, {kind: model})
    except SpecError as error:
        fail(f"{label}: invalid {kind} spec: {error}")
    if extra:
        text = yaml.safe_dump({**yaml.safe_load(text), **extra}, sort_keys=False)
    return gateway_call(
        "POST", f"{kind}s", content=text.encode(), headers={"content-type": "application/yaml"}
    )


def report(found: Any, kind: str, json_out: bool) -> None:
    if json_out:
        print_json(found)
    elif found["created"]:
        console.print(f"registered {kind} [bold]{found['name']}@{found['version']}[/bold]")
    else:
        console.print(
            f"{kind} [bold]{found['name']}@{found['version']}[/bold] unchanged: "
            "the same spec is registered already"
        )


def spec_text(file: Path) -> str:
    """The spec file's text, `{{ spec.dir }}` (its folder) and `{{ python }}` (the Python
    running boxops) filled in: what the registry is sent."""
    return filled(read_spec(file), file)


def filled(text: str, file: Path) -> str:
    """`{{ spec.dir }}` and `{{ python }}` filled in for a spec read from `file`."""
    from shared.placeholders import fill

    values = {"spec.dir": str(file.resolve().parent), "python": sys.executable}
    return fill(text, values)


def code_of(file: Path) -> dict[str, Any] | None:
    """Repo, commit, branch and path of the spec's folder, when it lies in a git checkout."""
    folder = file.resolve().parent

    def git(*args: str) -> str:
        # git from PATH, as the user runs it; an argument list, no shell.
        done = subprocess.run(  # noqa: S603
            ["git", "-C", str(folder), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    top = git("rev-parse", "--show-toplevel")
    commit = git("rev-parse", "HEAD")
    if not top or not commit:
        return None
    return {
        "repo": git("remote", "get-url", "origin") or top,
        "commit": commit,
        "branch": git("rev-parse", "--abbrev-ref", "HEAD") or None,
        "path": folder.relative_to(Path(top).resolve()).as_posix(),
        "dirty": bool(git("status", "--porcelain", "--", ".")),
    }
