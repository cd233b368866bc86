"""A hostile HTTP server on loopback: replies that drip, lie about their size or inflate.

    async with hostile(drip(body, every=0.05)) as server:
        client = StatisticsClient(server.url, "key", read_timeout=0.3)

Each connection's request head is read and answered by the `Reply` given, raw bytes on the
socket, so a test can send what no well-behaved framework would (a byte at a time, a
Content-Length of 300 MB, a gzip bomb). Bodies are produced piece by piece, never held
whole, so the server's own memory stays small (the benchmark measures the client's).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]

# A piece of a big body: big enough to be quick, small enough for the server to stay small.
PIECE = 1 << 20


@dataclass
class HostileServer:
    """Where the server listens, and how many requests it has read."""

    url: str
    requests: int = 0


@contextlib.asynccontextmanager
async def hostile(reply: Reply) -> AsyncIterator[HostileServer]:
    """Serve `reply` to every request on a loopback port for the `async with` block."""
    server_state = HostileServer(url="")
    handlers: set[asyncio.Task[None] | None] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())
        # Cancelled when the block ends: ended quietly, for asyncio logs a handler's error.
        with contextlib.suppress(
            ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError
        ):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length:
                    await reader.readexactly(length)
                server_state.requests += 1
                await reply(writer)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server_state.url = f"http://127.0.0.1:{port}"
    try:
        yield server_state
    finally:
        server.close()
        # Handlers still dripping end with the block (Python 3.11 has no close_clients).
        for task in handlers:
            if task is not None:
                task.cancel()
        await server.wait_closed()


def _head(*headers: str) -> bytes:
    return (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + "".join(f"{header}\r\n" for header in headers)
        + "\r\n"
    ).encode()


def drip(body: bytes, *, every: float) -> Reply:
    """A 200 whose declared body comes one byte every `every` seconds."""

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(_head(f"Content-Length: {len(body)}"))
        for index in range(len(body)):
            writer.write(body[index : index + 1])
            await writer.drain()
            await asyncio.sleep(every)

    return reply


def sized(size: int, *, declared: bool) -> Reply:
    """A 200 of `size` bytes of JSON-ish padding, its length declared or not (then it ends
    with the connection)."""

    async def reply(writer: asyncio.StreamWriter) -> None:
        header = f"Content-Length: {size}" if declared else "Connection: close"
        writer.write(_head(header))
        piece = b" " * PIECE
        sent = 0
        while sent < size:
            part = piece[: min(PIECE, size - sent)]
            writer.write(part)
            await writer.drain()
            sent += len(part)
        if not declared:
            writer.close()

    return reply


def gzip_bomb(size: int) -> Reply:
    """A 200 whose small gzip body inflates to `size` bytes (compressed once, then reused)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b" " * PIECE
    pieces = [compressor.compress(zeros) for _ in range(size // PIECE)]
    pieces.append(compressor.compress(b" " * (size % PIECE)))
    pieces.append(compressor.flush())
    body = b"".join(pieces)

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(_head("Content-Encoding: gzip", f"Content-Length: {len(body)}"))
        writer.write(body)

    return reply


def plain(body: bytes) -> Reply:
    """A 200 carrying `body` as it is (bytes no JSON encoder would write)."""

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(_head(f"Content-Length: {len(body)}"))
        writer.write(body)

    return reply


def gzipped(body: bytes) -> Reply:
    """A 200 carrying `body` gzip-encoded, as a proxy in front of a real server may send it."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    encoded = compressor.compress(body) + compressor.flush()

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(_head("Content-Encoding: gzip", f"Content-Length: {len(encoded)}"))
        writer.write(encoded)

    return reply
