"""Websocket reading for the web tests that tolerates a peer that went away.

A browser's socket can end three ways: a close handshake, the server's process gone (the
connection reset, seen as ERROR or a ClientConnectionResetError), or this side closing it.
Tests care that it ended, not which way, so every way counts as closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from tests.support.wait import CEILING

ENDED = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.ERROR,
)


async def read_until_closed(
    socket: aiohttp.ClientWebSocketResponse,
    on_data: Callable[[bytes], None] | None = None,
    *,
    timeout: float = CEILING,
) -> None:
    """Read `socket` until it ends however it ends, handing each frame's data (text frames
    encoded) to `on_data`; fails (TimeoutError) if it is still open after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                message = await socket.receive()
            except (aiohttp.ClientError, ConnectionError, RuntimeError):
                # Reset by the peer, or receive() after the socket already ended.
                return
            if message.type in ENDED:
                return
            if on_data is not None and isinstance(message.data, bytes | str):
                data = message.data
                on_data(data.encode() if isinstance(data, str) else data)
