"""The load generator's incremental HTTP/1.1 response parser."""

from __future__ import annotations

from itertools import pairwise

import pytest

from collectors.bench.http_response import ParseError, ResponseParser

LENGTH = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
)
CHUNKED = (
    b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n"
    b'4\r\n{"ok\r\n7;ext=1\r\n":true}\r\n0\r\nX-Trailer: yes\r\n\r\n'
)
EMPTY = b"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"


def _feed_in_pieces(raw: bytes, cuts: list[int]) -> list[tuple[int, bytes]]:
    parser = ResponseParser()
    out = []
    edges = [0, *cuts, len(raw)]
    for a, b in pairwise(edges):
        out += parser.feed(raw[a:b])
    return out


def test_a_content_length_body() -> None:
    assert ResponseParser().feed(LENGTH) == [(200, b'{"ok":true}')]


def test_a_chunked_body_with_extensions_and_trailers() -> None:
    assert ResponseParser().feed(CHUNKED) == [(201, b'{"ok":true}')]


def test_no_length_means_an_empty_body() -> None:
    assert ResponseParser().feed(EMPTY) == [(204, b"")]
    assert ResponseParser().feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == [(200, b"")]


@pytest.mark.parametrize("raw", [LENGTH, CHUNKED, EMPTY], ids=["length", "chunked", "empty"])
def test_a_response_split_at_every_byte_boundary(raw: bytes) -> None:
    whole = ResponseParser().feed(raw)
    for cut in range(1, len(raw)):
        assert _feed_in_pieces(raw, [cut]) == whole, cut
    # and one byte at a time
    assert _feed_in_pieces(raw, list(range(1, len(raw)))) == whole


@pytest.mark.parametrize("raw", [LENGTH, CHUNKED, EMPTY], ids=["length", "chunked", "empty"])
def test_bytes_past_a_response_are_kept_for_the_next(raw: bytes) -> None:
    parser = ResponseParser()
    first = parser.feed(raw + LENGTH[:10])
    assert len(first) == 1
    assert parser.feed(LENGTH[10:]) == [(200, b'{"ok":true}')]
    # two whole responses in one piece (not expected without pipelining, but nothing is lost)
    assert ResponseParser().feed(raw + LENGTH) == [*first, (200, b'{"ok":true}')]


@pytest.mark.parametrize(
    "raw",
    [
        b"HTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: eleven\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n",
    ],
)
def test_what_is_not_http_is_an_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        ResponseParser().feed(raw)


def test_a_head_that_never_ends_is_an_error() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(ParseError):
        for _ in range(100):
            parser.feed(b"X-Filler: " + b"a" * 1000 + b"\r\n")
