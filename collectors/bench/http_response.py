"""An incremental HTTP/1.1 response parser for the load generator (no pipelining needed,
but no byte past a response is lost)."""

from __future__ import annotations

__all__ = ["MAX_HEAD", "ParseError", "ResponseParser", "parse_head"]

MAX_HEAD = 65536  # bytes of status line and headers at most


class ParseError(ValueError):
    """The server's answer is not an HTTP/1.1 response."""


_LENGTH = b"\r\ncontent-length:"
_ENCODING = b"\r\ntransfer-encoding:"
_RETRY_AFTER = b"\r\nretry-after:"


def _field(fields: bytes, name: bytes) -> bytes | None:
    """The value of header `name` (lower case, with its leading CRLF and colon) in `fields`."""
    at = fields.find(name)
    if at < 0:
        return None
    at += len(name)
    stop = fields.find(b"\r", at)
    return fields[at:stop] if stop >= 0 else fields[at:]


def parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    """(status, content length or -1, chunked, has Retry-After) of a response head without its
    final CRLFCRLF.
    The status line is `HTTP/1.x NNN reason`; header names are matched whatever their case."""
    code = head[9:12]
    if not (
        head.startswith(b"HTTP/1.")
        and head[8:9] == b" "
        and code.isdigit()
        and head[12:13] in (b" ", b"\r", b"")
    ):
        line = head.split(b"\r", 1)[0]
        raise ParseError(f"malformed status line {line[:80]!r}")
    fields = head.lower()
    length = -1
    value = _field(fields, _LENGTH)
    if value is not None:
        value = value.strip()
        if not value.isdigit():
            raise ParseError(f"malformed Content-Length {value[:40]!r}")
        length = int(value)
    chunked = _ENCODING in fields and b"chunked" in (_field(fields, _ENCODING) or b"")
    return int(code), length, chunked, _RETRY_AFTER in fields


_HEAD, _BODY, _SIZE, _CHUNK, _TRAILER = range(5)
# heads parsed lately: a server repeats its heads byte for byte (the Date changes each second)
_HEADS: dict[bytes, tuple[int, int, bool, bool]] = {}


class ResponseParser:
    """An incremental HTTP/1.1 response parser: `feed` it the bytes as they come, it returns
    the responses they complete as (status, body); `retry_after` holds, per response of the
    last `feed`, whether it carried a Retry-After header (only for 429 and 503 answers, the
    rest are False). A body is delimited by Content-Length or
    chunked encoding; without either it is empty. Bytes past a response are kept for the
    next one. Raises ParseError on what is not HTTP."""

    __slots__ = ("_buf", "_need", "_parts", "_retry", "_state", "_status", "retry_after")

    def __init__(self) -> None:
        self._buf = b""
        self._state = _HEAD
        self._need = 0
        self._status = 0
        self._parts: list[bytes] = []
        self._retry = False
        self.retry_after: list[bool] = []

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buf = self._buf + data if self._buf else data
        size = len(buf)
        pos = 0
        out: list[tuple[int, bytes]] = []
        flags: list[bool] = []
        state, need = self._state, self._need
        while True:
            if state == _HEAD:
                stop = buf.find(b"\r\n\r\n", pos)
                if stop < 0:
                    if size - pos > MAX_HEAD:
                        raise ParseError(f"no end of the response head in {MAX_HEAD} bytes")
                    break
                head = buf[pos:stop]
                parsed = _HEADS.get(head)
                if parsed is None:
                    if len(_HEADS) >= 256:
                        _HEADS.clear()
                    parsed = _HEADS[head] = parse_head(head)
                status, length, chunked, retry = parsed
                self._retry = retry and status in (429, 503)
                pos = stop + 4
                if chunked:
                    self._status, self._parts, state = status, [], _SIZE
                elif length > 0:
                    self._status, need, state = status, length, _BODY
                else:
                    out.append((status, b""))
                    flags.append(self._retry)
            elif state == _BODY:
                if size - pos < need:
                    break
                out.append((self._status, buf[pos : pos + need]))
                flags.append(self._retry)
                pos += need
                state = _HEAD
            elif state == _SIZE:
                stop = buf.find(b"\r\n", pos)
                if stop < 0:
                    break
                digits = buf[pos:stop].split(b";", 1)[0].strip()
                try:
                    need = int(digits, 16)
                except ValueError:
                    raise ParseError(f"malformed chunk size {digits[:40]!r}") from None
                pos = stop + 2
                state = _CHUNK if need else _TRAILER
            elif state == _CHUNK:
                if size - pos < need + 2:
                    break
                if buf[pos + need : pos + need + 2] != b"\r\n":
                    raise ParseError("a chunk does not end in CRLF")
                self._parts.append(buf[pos : pos + need])
                pos += need + 2
                state = _SIZE
            else:  # trailer fields, up to an empty line
                stop = buf.find(b"\r\n", pos)
                if stop < 0:
                    break
                if stop == pos:
                    out.append((self._status, b"".join(self._parts)))
                    flags.append(self._retry)
                    self._parts = []
                    state = _HEAD
                pos = stop + 2
        self._state, self._need = state, need
        self._buf = buf[pos:] if pos < size else b""
        self.retry_after = flags
        return out
