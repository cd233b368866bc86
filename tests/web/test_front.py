"""The web front: the key's first hop and cookie, static files, viewers' lifecycle and limit."""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest

from statdash.web.front import cookie_name, key_matches, render_page
from tests.support.wait import CEILING, until_async
from tests.support.web import read_until_closed

from .conftest import API_KEY, DELETE_BOUND, START_BOUND, ServeFront


async def status(
    served_http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> int:
    async with served_http.get(url, headers=headers, allow_redirects=False) as response:
        return response.status


def test_key_matches_only_the_key() -> None:
    """The key comparison accepts the key and refuses other, shorter, longer or odd strings."""
    key = "abc-DEF_123"
    assert key_matches(key, key)
    assert not key_matches("", key)
    assert not key_matches(key[:-1], key)
    assert not key_matches(key + "x", key)
    assert not key_matches("ábc-DEF_123", key)


def test_the_title_cannot_write_html() -> None:
    """A layout title with markup and control characters is shown as text in the page."""
    page = render_page("<script>alert(1)</script>\x1b[2J", font_size=16)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\x1b" not in page


async def test_page_needs_the_key(serve_front: ServeFront) -> None:
    """The page answers 403 without the key and with a wrong one; the right one in the URL
    gets the key's cookie and a redirect to the clean URL, which the cookie opens."""
    served = await serve_front()
    base = served.base_url
    assert await status(served.http, f"{base}/") == 403
    assert await status(served.http, f"{base}/?token=") == 403
    assert await status(served.http, f"{base}/?token={served.key[:-1]}x") == 403
    cookie = await served.sign_in()
    async with served.http.get(f"{base}/", headers=cookie, allow_redirects=False) as response:
        assert response.status == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        page = await response.text()
    # The page names its websocket without the key: the cookie goes with it.
    assert served.key not in page
    assert 'new URL("ws", window.location.href)' in page
    wrong = {"Cookie": f"{cookie_name(served.key)}={served.key[:-1]}x"}
    assert await status(served.http, f"{base}/", wrong) == 403


async def test_the_first_hop_sets_the_cookie_and_redirects(serve_front: ServeFront) -> None:
    """`/?token=KEY` answers 303 to `./` (other parameters kept, the key gone) with an
    HttpOnly, SameSite=Strict, Path=/ cookie; Secure when a TLS proxy says it is https."""
    served = await serve_front()
    async with served.http.get(f"{served.page_url}&fontsize=20", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "./?fontsize=20"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert served.key not in await response.text()
        cookie = response.cookies[cookie_name(served.key)]
    assert cookie.value == served.key
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    assert not cookie["secure"]
    async with served.http.get(
        served.page_url, allow_redirects=False, headers={"X-Forwarded-Proto": "https"}
    ) as response:
        assert response.headers["Location"] == "./"
        assert response.cookies[cookie_name(served.key)]["secure"] is True


@pytest.mark.parametrize("cookie", [None, "", "wrong", "x" * 43, "key in the path"])
async def test_websocket_refuses_without_the_cookie(
    serve_front: ServeFront, cookie: str | None
) -> None:
    """The websocket upgrade answers 403 without the key's cookie or with a wrong one (the
    key in the URL, as before the cookie, included), and starts no dashboard."""
    served = await serve_front()
    url = served.socket_url()
    headers = {}
    if cookie == "key in the path":
        url = f"{served.base_url}/ws/{served.key}?width=100&height=30"
    elif cookie is not None:
        headers = {"Cookie": f"{cookie_name(served.key)}={cookie}"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await served.http.ws_connect(url, headers=headers)
    # The key in the path is no route at all any more.
    assert refused.value.status == (404 if cookie == "key in the path" else 403)
    assert served.front.viewer_pids == []


async def test_static_files_need_the_cookie_and_have_no_listing(serve_front: ServeFront) -> None:
    """Static files answer 403 without the key's cookie; with it, directories answer 403 or
    404 rather than a listing, and the page's assets load."""
    served = await serve_front()
    base = served.base_url
    assert await status(served.http, f"{base}/static/js/textual.js") == 403
    cookie = await served.sign_in()
    # ("/static/../" is the page itself: the client resolves the dots before it asks.)
    for directory in ("/static", "/static/", "/static/js/", "/static/fonts/"):
        assert await status(served.http, base + directory, cookie) in (403, 404), directory
    assert await status(served.http, f"{base}/static/js/textual.js", cookie) == 200
    assert await status(served.http, f"{base}/static/css/xterm.css", cookie) == 200
    font = "/static/fonts/RobotoMono-VariableFont_wght.ttf"
    assert await status(served.http, base + font, cookie) == 200
    assert await status(served.http, f"{base}/static/../server.py", cookie) in (403, 404)


async def test_viewer_lifecycle_and_no_secret_in_the_browser(serve_front: ServeFront) -> None:
    """A viewer with the key gets a dashboard with one subscription, and nothing the browser
    receives holds the API key; closing the socket deletes the subscription within 10 s."""
    served = await serve_front()
    cookie = await served.sign_in()
    async with served.http.get(f"{served.base_url}/", headers=cookie) as response:
        received = [await response.read()]
    async with served.http.get(
        f"{served.base_url}/static/js/textual.js", headers=cookie
    ) as response:
        received.append(await response.read())
    socket = await served.http.ws_connect(served.socket_url(), headers=cookie)

    reader = asyncio.create_task(read_until_closed(socket, received.append))
    await served.wait_for_subscriptions(1, START_BOUND)
    (pid,) = served.front.viewer_pids
    # More screen updates reach the browser as the floor moves.
    served.simulator.advance(30)
    await until_async(
        lambda: sum(len(chunk) for chunk in received[2:]) > 1000, what="screen updates"
    )
    assert all(API_KEY.encode() not in chunk for chunk in received)
    assert all(served.key.encode() not in chunk for chunk in received)
    # The key is in the dashboard's environment, and not on its command line.
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        assert API_KEY.encode() not in cmdline.read()
    with open(f"/proc/{pid}/environ", "rb") as environ:
        assert f"STATDASH_API_KEY={API_KEY}".encode() in environ.read().split(b"\0")

    await socket.close()
    await reader
    await served.wait_for_subscriptions(0, DELETE_BOUND)
    await served.wait_for_no_viewers(DELETE_BOUND)
    assert not os.path.exists(f"/proc/{pid}")


async def test_a_viewer_that_loses_its_network_is_ended(serve_front: ServeFront) -> None:
    """A browser that stops answering pings (its network gone) loses its dashboard, and the
    subscription is deleted within 10 s of its going silent."""
    served = await serve_front()
    socket = await served.connect(autoping=False)
    await served.wait_for_subscriptions(1, START_BOUND)
    # From here on, nothing is read from the socket, so no ping is ever answered.
    await served.wait_for_subscriptions(0, DELETE_BOUND)
    await served.wait_for_no_viewers(DELETE_BOUND)
    await socket.close()


async def test_one_viewer_too_many_is_refused(serve_front: ServeFront) -> None:
    """With --max-viewers 1 a second browser reads a refusal and is closed (try again
    later); once the first leaves, the next one gets a dashboard."""
    served = await serve_front(max_viewers=1, slot_wait=0.5)
    first = await served.connect()
    # Read all along, as a browser does: unread frames hold the dashboard's output back.
    first_reader = asyncio.create_task(read_until_closed(first))
    await served.wait_for_subscriptions(1, START_BOUND)

    second = await served.connect()
    message = await second.receive(timeout=CEILING)
    assert message.type == aiohttp.WSMsgType.BINARY
    assert b"all 1 viewer slots are in use" in message.data
    closing = await second.receive(timeout=CEILING)
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert second.close_code == aiohttp.WSCloseCode.TRY_AGAIN_LATER
    assert len(served.front.viewer_pids) == 1

    await first.close()
    await first_reader
    await served.wait_for_subscriptions(0, DELETE_BOUND)
    await served.wait_for_no_viewers(DELETE_BOUND)
    third = await served.connect()
    third_reader = asyncio.create_task(read_until_closed(third))
    await served.wait_for_subscriptions(1, START_BOUND)
    await third.close()
    await third_reader
    await served.wait_for_subscriptions(0, DELETE_BOUND)
