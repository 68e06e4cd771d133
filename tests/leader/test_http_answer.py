"""Reading agents' answers: every way HTTP/1.1 ends one, fed in pieces as they arrive from a socket."""

from __future__ import annotations

import pytest

from leader.http_answer import Answer, Incomplete, parse


def _feed(*pieces: bytes, at_eof: bool = False) -> tuple[list[Answer], bytearray]:
    """Parse as a connection would: after each arrival, every whole answer there is."""
    buf, answers = bytearray(), []
    for i, piece in enumerate(pieces):
        buf += piece
        while True:
            try:
                answers.append(parse(buf, at_eof=at_eof and i == len(pieces) - 1))
            except Incomplete:
                break
    return answers, buf


def test_content_length_answers_in_pieces_and_kept_alive() -> None:
    answers, rest = _feed(
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nconte",
        b'nt-length: 14\r\n\r\n{"task_id":',
        b" 1}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 404",
    )
    assert answers == [Answer(202, b'{"task_id": 1}', False), Answer(200, b"{}", False)]
    assert rest == b"HTTP/1.1 404"  # the start of the next answer stays for the next arrival


def test_chunked_with_extensions_and_trailers() -> None:
    answers, rest = _feed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n",
        b"2\r\nef\r\n0\r\nX-Trailer: 1\r\n\r\n",
    )
    assert answers == [Answer(200, b"abcdef", False)] and rest == b""


def test_close_delimited_informational_and_empty_answers() -> None:
    answers, _ = _feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
    assert answers == [Answer(204, b"", False)]
    answers, _ = _feed(b"HTTP/1.0 200 OK\r\n\r\npart one, ", b"part two", at_eof=True)
    assert answers == [Answer(200, b"part one, part two", True)]  # HTTP/1.0: ends at close, then closes
    answers, _ = _feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx")
    assert answers == [Answer(200, b"x", True)]


@pytest.mark.parametrize(
    "raw",
    [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", b"HTTP/1.1 2x0 OK\r\n\r\n"],
)
def test_not_http_is_an_error_not_a_hang(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse(bytearray(raw), at_eof=False)
