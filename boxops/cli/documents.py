"""A spec file holding several specs, `---` lines between them: each spec on its own, the
lines of the others left blank, so an error names the line of the file. Pure."""

import re

SEPARATOR = re.compile(r"---[ \t]*(#.*)?\r?\n?")
CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


def documents(text: str) -> list[str]:
    """The specs of `text`, each padded to its place in the file; none when it is empty."""
    found, start, lines = [], 0, text.splitlines(keepends=True)
    for number, line in enumerate([*lines, "---"]):
        if SEPARATOR.fullmatch(line):
            part = "".join(lines[start:number])
            if CONTENT.search(part):
                found.append("\n" * start + part)
            start = number + 1
    return found
