"""Reading a reply's body within a limit: declared, streamed and inflated bytes alike.

httpx reads and decodes a body whole (`aread`), and its gzip decoder inflates a whole network
chunk at once: a gzip bomb of a few kilobytes becomes gigabytes before anyone can count. Here
the body is read raw and inflated a piece at a time, so the limit holds on what is held.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from statdash.api.errors import ShapeError, clip

# The encodings offered (the client's Accept-Encoding), and so the only ones read.
ACCEPT_ENCODING = "gzip, deflate"
# The most one inflating step produces (zlib's output buffer per call).
_PIECE = 1 << 20


async def read_limited(response: httpx.Response, limit: int) -> httpx.Response:
    """`response` (sent with `stream=True`) read and decoded, or ShapeError past `limit` bytes.

    The limit holds before anything is held: a declared Content-Length past it is refused
    before the body is read, a streamed body is cut as it crosses it, and a compressed one
    is inflated chunk by chunk, never past it. The response handed back is already decoded
    (its Content-Encoding and Content-Length dropped) and `response` is closed.
    """
    try:
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ShapeError(f"reply of {declared} bytes is larger than {limit} bytes")
        body = bytearray()
        if response.is_stream_consumed:
            # Built in memory (a test's transport): already read, and already decoded.
            inflate, raw = _Inflater(""), _held(response.content)
        else:
            inflate, raw = _Inflater(response.headers.get("Content-Encoding", "")), None
        async for chunk in raw or response.aiter_raw():
            for piece in inflate.feed(chunk, limit - len(body)):
                body += piece
            if len(body) > limit:
                raise ShapeError(f"reply larger than {limit} bytes")
        body += inflate.finish(limit - len(body))
        if len(body) > limit:
            raise ShapeError(f"reply larger than {limit} bytes")
    finally:
        await response.aclose()
    headers = response.headers.copy()
    # What follows is the decoded body: httpx must not decode it again.
    for name in ("Content-Encoding", "Content-Length"):
        headers.pop(name, None)
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=bytes(body),
        request=response.request,
    )


async def read_small(response: httpx.Response, limit: int) -> None:
    """Read `response` whole (then `response.content`), or ShapeError past `limit` bytes.

    For the small replies read inside httpx's auth flow (the token endpoint's), where the
    response itself must end up read: its body is counted as it arrives, and one in any
    Content-Encoding is refused (identity was asked for, and inflating is what a bomb needs).
    """
    if response.is_stream_consumed:
        return  # built in memory (a test's transport): already read
    try:
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ShapeError(f"reply of {declared} bytes is larger than {limit} bytes")
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in ("", "identity"):
            raise ShapeError(f"reply in an encoding not asked for: {clip(encoding, 40)!r}")
    except ShapeError:
        await response.aclose()
        raise
    response.stream = _Counted(response.stream, limit)
    await response.aread()


class _Counted(httpx.AsyncByteStream):
    """A response stream that raises ShapeError once more than `limit` bytes came."""

    def __init__(self, stream: httpx.SyncByteStream | httpx.AsyncByteStream, limit: int) -> None:
        assert isinstance(stream, httpx.AsyncByteStream)
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._stream:
            size += len(chunk)
            if size > self._limit:
                raise ShapeError(f"reply larger than {self._limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


async def _held(content: bytes) -> AsyncIterator[bytes]:
    """A body already in memory, as a stream of one chunk."""
    yield content


class _Inflater:
    """Decodes a body's Content-Encoding as it streams, never producing more than asked.

    `feed(chunk, room)` stops once it has produced more than `room` bytes, so a caller that
    checks for more than `room` knows the limit was crossed having held one piece past it.
    """

    def __init__(self, encoding: str) -> None:
        codings = [part.strip().lower() for part in encoding.split(",") if part.strip()]
        codings = [coding for coding in codings if coding != "identity"]
        self._encoding = codings[0] if codings else ""
        if len(codings) > 1 or self._encoding not in ("", "gzip", "x-gzip", "deflate"):
            raise ShapeError(f"reply in an encoding not asked for: {clip(encoding, 40)!r}")
        self._inflater: Any = None

    def feed(self, chunk: bytes, room: int) -> Iterator[bytes]:
        """`chunk` decoded, in pieces of at most `_PIECE` bytes, ending past `room` bytes."""
        if not self._encoding:
            yield chunk[: room + 1]
            return
        if self._inflater is None:
            self._inflater = self._new(chunk)
        pending = chunk
        try:
            # Pieces, not one call: a bomb's 64 KB network chunk is ~64 MB inflated.
            while pending and room >= 0:
                piece = self._inflater.decompress(pending, min(room + 1, _PIECE))
                room -= len(piece)
                pending = self._inflater.unconsumed_tail
                yield piece
        except zlib.error:
            raise ShapeError("the reply could not be decoded") from None

    def finish(self, room: int) -> bytes:
        """What the decoder still holds, cut at `room + 1` bytes."""
        if self._inflater is None:
            return b""
        try:
            # Whatever `feed` left unconsumed was already past the limit; this is the rest.
            return bytes(self._inflater.flush(room + 1))
        except zlib.error:
            raise ShapeError("the reply could not be decoded") from None

    def _new(self, first: bytes) -> Any:
        if self._encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        # "deflate" is zlib-wrapped by the standard, raw deflate by some servers (httpx
        # allows both): a zlib header is method 8 in the low nibble, and a multiple of 31.
        wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
