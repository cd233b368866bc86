"""A browser for the web tests: its cookies, and websocket reading that tolerates a peer that
went away.

`statdash serve` answers the printed URL with a cookie and a redirect; `browser()` keeps that
cookie as a browser does (loopback addresses included) and `open_page` makes the first hop.
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


def browser() -> aiohttp.ClientSession:
    """A client session that keeps cookies as a browser does, for an IP-address host too."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_page(http: aiohttp.ClientSession, url: str) -> str:
    """Open serve's printed URL (the key's first hop: cookie, redirect, the clean page);
    returns the websocket's URL without its `?width=&height=`."""
    async with http.get(url) as page:
        assert page.status == 200, page.status
        assert "token=" not in str(page.url)
    return url.split("/?token=")[0] + "/ws"


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
