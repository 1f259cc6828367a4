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
            end = _cut_point(self._partial)
            lines.append(_text(self._partial[:end]))
            self._partial = self._partial[end:]
        return lines

    def close(self) -> list[str]:
        rest, self._partial = self._partial, b""
        return [_text(rest)] if rest else []


def _cut(line: bytes) -> list[str]:
    pieces = []
    while len(line) > MAX_LINE:
        end = _cut_point(line)
        pieces.append(_text(line[:end]))
        line = line[end:]
    return [*pieces, _text(line)]


def _cut_point(data: bytes) -> int:
    """MAX_LINE, or up to 3 bytes less so a multi-byte UTF-8 character stays whole."""
    end = MAX_LINE
    while end > MAX_LINE - 3 and data[end] & 0xC0 == 0x80:  # a continuation byte
        end -= 1
    return end


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")
