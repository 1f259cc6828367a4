"""Splitting a byte stream into lines, bounded in length: pure logic."""

MAX_LINE = 16 * 1024


class LineSplitter:
    """Feed chunks, get complete lines; an over-long line is cut into MAX_LINE pieces."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, chunk: bytes) -> list[str]:
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        lines = [piece for line in complete for piece in _cut(line)]
        while len(self._partial) > MAX_LINE:
            lines.append(_text(self._partial[:MAX_LINE]))
            self._partial = self._partial[MAX_LINE:]
        return lines

    def close(self) -> list[str]:
        rest, self._partial = self._partial, b""
        return [_text(rest)] if rest else []


def _cut(line: bytes) -> list[str]:
    return [_text(line[i : i + MAX_LINE]) for i in range(0, max(len(line), 1), MAX_LINE)]


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")
