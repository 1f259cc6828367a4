"""Splitting a process's output into bounded lines, whatever the chunk boundaries."""

import pytest

from services.executor.lines import MAX_LINE, LineSplitter


def split(*chunks: bytes) -> list[str]:
    splitter = LineSplitter()
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.close()


def test_complete_lines_come_out_without_their_newlines() -> None:
    assert LineSplitter().feed(b"one\ntwo\n") == ["one", "two"]


def test_a_partial_line_waits_for_the_rest() -> None:
    splitter = LineSplitter()

    assert splitter.feed(b"hel") == []
    assert splitter.feed(b"lo wo") == []
    assert splitter.feed(b"rld\nnext") == ["hello world"]
    assert splitter.feed(b"\n") == ["next"]


def test_any_chunking_gives_the_same_lines() -> None:
    output = b"alpha\nbeta\r\n\ngamma delta\n"
    expected = ["alpha", "beta", "", "gamma delta"]

    assert split(output) == expected
    assert split(*(bytes([b]) for b in output)) == expected
    for cut in range(len(output) + 1):
        assert split(output[:cut], output[cut:]) == expected, cut


def test_empty_lines_are_kept() -> None:
    assert split(b"\n\nx\n\n") == ["", "", "x", ""]


def test_an_empty_chunk_changes_nothing() -> None:
    splitter = LineSplitter()

    assert splitter.feed(b"") == []
    assert splitter.feed(b"a") == []
    assert splitter.feed(b"") == []
    assert splitter.close() == ["a"]


def test_crlf_endings_lose_their_carriage_return() -> None:
    assert split(b"dos line\r\nunix line\n") == ["dos line", "unix line"]


def test_a_crlf_split_across_chunks_still_loses_its_carriage_return() -> None:
    assert split(b"dos line\r", b"\nnext\r", b"\n") == ["dos line", "next"]


def test_a_carriage_return_inside_a_line_is_kept() -> None:
    assert split(b"progress 10%\rprogress 20%\n") == ["progress 10%\rprogress 20%"]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert split(b"bad \xff\xfe byte\nok\n") == ["bad \ufffd\ufffd byte", "ok"]


def test_a_multi_byte_character_split_across_chunks_is_joined() -> None:
    euro = "€".encode()

    assert split(b"price: " + euro[:1], euro[1:2], euro[2:] + b"\n") == ["price: €"]


def test_a_line_of_exactly_max_line_bytes_is_one_line() -> None:
    line = b"x" * MAX_LINE

    assert split(line + b"\n") == ["x" * MAX_LINE]
    assert split(line, b"\n") == ["x" * MAX_LINE]


def test_an_over_long_complete_line_is_cut_into_max_line_pieces() -> None:
    line = b"a" * MAX_LINE + b"b" * MAX_LINE + b"c" * 10

    assert split(line + b"\nafter\n") == ["a" * MAX_LINE, "b" * MAX_LINE, "c" * 10, "after"]


def test_an_over_long_partial_line_is_shipped_before_its_newline_arrives() -> None:
    splitter = LineSplitter()

    assert splitter.feed(b"a" * MAX_LINE) == []
    assert splitter.feed(b"a" * 5) == ["a" * MAX_LINE]
    assert splitter.feed(b"b" * (2 * MAX_LINE)) == ["a" * 5 + "b" * (MAX_LINE - 5), "b" * MAX_LINE]
    assert splitter.feed(b"\n") == ["b" * 5]
    assert splitter.close() == []


def test_output_that_never_ends_a_line_stays_bounded() -> None:
    splitter = LineSplitter()

    for _ in range(100):
        for line in splitter.feed(b"z" * 4096):
            assert len(line.encode()) <= MAX_LINE

    assert all(len(line) <= MAX_LINE for line in splitter.close())


@pytest.mark.parametrize("before", [MAX_LINE - 1, MAX_LINE - 2, MAX_LINE - 3])
def test_a_cut_never_splits_a_multi_byte_character(before: int) -> None:
    emoji = "🙂"  # four bytes in UTF-8
    line = "x" * before + emoji + "y" * 10

    for chunks in ([line.encode() + b"\n"], [line.encode(), b"\n"]):
        pieces = split(*chunks)
        assert "".join(pieces) == line
        assert "\ufffd" not in "".join(pieces)
        assert all(len(piece.encode()) <= MAX_LINE for piece in pieces)


def test_close_flushes_the_unterminated_last_line() -> None:
    splitter = LineSplitter()
    splitter.feed(b"done\nno newline at the end\r")

    assert splitter.close() == ["no newline at the end"]
    assert splitter.close() == []


def test_close_with_nothing_pending_gives_nothing() -> None:
    splitter = LineSplitter()
    splitter.feed(b"all\ncomplete\n")

    assert splitter.close() == []
