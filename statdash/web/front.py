"""The web server of `statdash serve`: a page and a websocket behind one access key.

textual-serve's own `Server` is not used: it has no authentication, lists its static
directory, starts each app through a shell, and builds its websocket URL from the host it
was told rather than the one the browser used (so it breaks behind a TLS proxy). This is
the thin aiohttp server it would be, closed. The key is in the URL for the first hop only:
`/?token=KEY` answers with a cookie holding the key (HttpOnly, SameSite=Strict, Secure over
TLS) and a redirect to the clean URL, so no page, Referer or later request carries the key
in a URL (Chromium sends the page's URL as the font request's Referer despite `no-referrer`).
The page, the websocket (`/ws`) and the static files then answer 403 without that cookie;
the key is compared in constant time. Static files are served without a listing; at most
`max_viewers` dashboards run at once, and the next browser gets a refusal it can read. A
browser message is bounded in size and shape before it is parsed. The page's assets
(textual.js, xterm.css, the font) are textual-serve's, served from here, so the page needs
nothing from the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import msgspec
import textual_serve
from aiohttp import WSCloseCode, WSMsgType, web

from statdash.api.errors import StatisticsError
from statdash.text import clean
from statdash.web.viewer import LEFTOVER_TIMEOUT, QUIT_GRACE, TERM_GRACE, ViewerProcess

STATIC_ROOT = Path(textual_serve.__file__).parent / "static"
# How long serve's own delete of what a killed dashboard left open may take, all told.
LEFTOVER_WAIT = LEFTOVER_TIMEOUT + 0.5
# How long a new viewer waits for a slot: a reloading tab's old dashboard needs a moment to
# quit and free its slot (at most QUIT_GRACE + TERM_GRACE, and LEFTOVER_WAIT when it had to
# be killed), and the reload must not be refused for that.
SLOT_WAIT = QUIT_GRACE + TERM_GRACE + LEFTOVER_WAIT
# Ping every 3 s, drop after 1.5 s without a pong (aiohttp waits half the heartbeat): a tab
# that lost its network is noticed within ~4.5 s, so its subscription is gone within 10 s.
HEARTBEAT = 3.0
TOKEN_BYTES = 32
SHUTDOWN_WAIT = 12.0
NO_ANSWER_YET = "no answer before the dashboard closed"
"""How a dashboard closed before its server first answered ends its "never reached" line (the
words of statdash.ui.start, which the web front may not import): when the viewer left first,
that is the viewer leaving, not the server failing."""
# The websocket close code for "try again later" (RFC 6455 registry).
TRY_AGAIN_LATER = WSCloseCode.TRY_AGAIN_LATER
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The first hop's URL carries the key: never send it on as a Referer (the redirect to
    # the clean URL is what makes sure; Chromium ignores this for a page's font request).
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
TOKEN_QUERY = "token"
COOKIE_PREFIX = "statdash_serve_"
# The largest message a browser sends is a key or a paste on the filter line; anything
# bigger is refused before it is parsed.
MAX_BROWSER_MESSAGE = 64 * 1024
# What textual.js sends, and nothing deeper: ["stdin", "keys"], ["resize", {"width": 80,
# "height": 24}], ["ping", "1"], ["blur"], ["focus"]. Decoding to this shape refuses an
# array nested in an array at its first '[', so no depth of nesting costs any recursion.
BrowserMessage = list[str | dict[str, int | float | str | bool | None]]
_BROWSER_MESSAGE = msgspec.json.Decoder(BrowserMessage)


def new_access_key() -> str:
    """A fresh random access key, URL-safe (256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def key_matches(given: str, key: str) -> bool:
    """True when `given` is the access key (in constant time, whatever `given` holds)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), key.encode("utf-8"))


def cookie_name(key: str) -> str:
    """The cookie that carries `key`: named after a digest of it, because cookies are not
    kept apart by port, and two `serve`s on one host must not overwrite each other's."""
    return COOKIE_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def parse_browser_message(data: str) -> BrowserMessage | str:
    """A browser's websocket message as its envelope, or why it is refused (in words)."""
    if len(data) > MAX_BROWSER_MESSAGE:
        return f"{len(data):,} characters, more than the {MAX_BROWSER_MESSAGE:,} allowed"
    try:
        return _BROWSER_MESSAGE.decode(data)
    except msgspec.ValidationError:
        return "not a terminal message (nested too deeply, or not a list of strings)"
    except msgspec.DecodeError:
        return "not JSON"


Leftovers = Callable[[int, float], Awaitable[list[str]]]
"""`leftovers(pid, timeout)`: delete what the ended dashboard `pid` left recorded as open,
within `timeout` seconds; returns what to say about it (`statdash.commands.serve`)."""


@dataclass(frozen=True, slots=True)
class ViewerCommand:
    """How to start one viewer's dashboard: the argument list and its whole environment."""

    argv: Sequence[str]
    environment: Mapping[str, str] = field(repr=False)
    """Holds the server's credentials: never shown, never logged."""


class WebFront:
    """The aiohttp application: page, websocket, static files, viewer slots."""

    def __init__(
        self,
        command: ViewerCommand,
        *,
        access_key: str,
        max_viewers: int,
        title: str,
        say: Callable[[str], None],
        slot_wait: float = SLOT_WAIT,
        heartbeat: float = HEARTBEAT,
        leftovers: Leftovers | None = None,
    ) -> None:
        """`leftovers` deletes what an ended dashboard left recorded as open (`Leftovers`);
        None: nothing is deleted from here."""
        if max_viewers < 1:
            raise ValueError("max_viewers must be at least 1")
        self._command = command
        self._key = access_key
        self._cookie = cookie_name(access_key)
        self._max_viewers = max_viewers
        self._title = title
        self._say = say
        self._slot_wait = slot_wait
        self._heartbeat = heartbeat
        self._leftovers = leftovers
        self._slots = asyncio.Semaphore(max_viewers)
        self._viewers: dict[web.WebSocketResponse, ViewerProcess] = {}

    @property
    def viewer_pids(self) -> list[int]:
        """The process ids of the dashboards running now, one per connected viewer."""
        return [pid for viewer in self._viewers.values() if (pid := viewer.pid) is not None]

    def application(self) -> web.Application:
        """A fresh aiohttp application serving this front."""
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self._page),
                web.get("/ws", self._websocket),
                # show_index=False: a directory answers 403, not a listing.
                web.static("/static", STATIC_ROOT, show_index=False, follow_symlinks=False),
            ]
        )
        app.middlewares.append(self._static_needs_the_cookie)
        app.on_shutdown.append(self._stop_everyone)
        return app

    def _has_cookie(self, request: web.Request) -> bool:
        return key_matches(request.cookies.get(self._cookie, ""), self._key)

    @web.middleware
    async def _static_needs_the_cookie(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """The page's assets answer only a browser that holds the key's cookie."""
        if request.path.startswith("/static") and not self._has_cookie(request):
            raise web.HTTPForbidden(text="statdash serve: open the page with its access key\n")
        return await handler(request)

    async def _page(self, request: web.Request) -> web.Response:
        given = request.query.get(TOKEN_QUERY)
        if given is not None:
            if not key_matches(given, self._key):
                raise web.HTTPForbidden(text="statdash serve: this page needs its access key\n")
            raise self._first_hop(request)
        if not self._has_cookie(request):
            raise web.HTTPForbidden(text="statdash serve: this page needs its access key\n")
        body = render_page(
            self._title, font_size=min(max(_number(request.query.get("fontsize"), 16), 6), 64)
        )
        return web.Response(text=body, content_type="text/html", headers=PAGE_HEADERS)

    def _first_hop(self, request: web.Request) -> web.HTTPSeeOther:
        """The key's cookie, and a redirect to the same page without the key in its URL.

        The redirect is relative (`./`), so it lands on the same path behind a proxy that
        serves this under a sub-path; the page's other parameters (`fontsize`) are kept.
        """
        rest = [(name, value) for name, value in request.query.items() if name != TOKEN_QUERY]
        clean_url = "./" + (f"?{urlencode(rest)}" if rest else "")
        redirect = web.HTTPSeeOther(location=clean_url, headers=PAGE_HEADERS)
        # Secure over TLS: this server's own, or a proxy's that says so (the flag only
        # narrows where the browser sends the cookie, so trusting the header risks nothing).
        forwarded = request.headers.get("X-Forwarded-Proto", "").lower()
        redirect.set_cookie(
            self._cookie,
            self._key,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure or forwarded == "https",
        )
        return redirect

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._has_cookie(request):
            raise web.HTTPForbidden(text="statdash serve: this websocket needs its access key\n")
        socket = web.WebSocketResponse(heartbeat=self._heartbeat)
        await socket.prepare(request)
        try:
            await asyncio.wait_for(self._slots.acquire(), self._slot_wait)
        except TimeoutError:
            await self._refuse(socket)
            return socket
        try:
            await self._serve_viewer(socket, request)
        finally:
            self._slots.release()
        return socket

    async def _refuse(self, socket: web.WebSocketResponse) -> None:
        """Tell the browser, in its terminal, that every slot is taken; then close."""
        message = (
            f"statdash serve: all {self._max_viewers} viewer slots are in use. "
            "Close another viewer, or ask for a higher --max-viewers, and reload.\r\n"
        )
        with contextlib.suppress(ConnectionError):
            await socket.send_bytes(message.encode("utf-8"))
        await socket.close(code=TRY_AGAIN_LATER, message=b"all viewer slots are in use")
        self._say(f"refused a viewer: all {self._max_viewers} slots are in use")

    async def _serve_viewer(self, socket: web.WebSocketResponse, request: web.Request) -> None:
        async def close() -> None:
            await socket.close()

        width = _dimension(request.query.get("width"), 80)
        height = _dimension(request.query.get("height"), 24)
        viewer = ViewerProcess(
            self._command.argv,
            self._command.environment,
            write_bytes=socket.send_bytes,
            write_str=socket.send_str,
            close=close,
            # A dashboard's own messages (say, "never reached ...") go to serve's stderr.
            on_stderr=lambda line: log.heard(line),
        )
        log = ViewerLog(self._say, lambda: viewer.pid)
        self._viewers[socket] = viewer
        try:
            await viewer.start(width, height)
            self._say(f"viewer connected (dashboard pid {viewer.pid}; {len(self._viewers)} now)")
            await _relay_browser(socket, viewer, log)
        finally:
            # Whatever ended the connection (close, reload, lost network, server shutdown),
            # the dashboard quits and deletes its subscription before the slot is free.
            log.leaving = True
            await viewer.stop()
            await self._delete_leftovers(viewer.pid, log)
            del self._viewers[socket]
            log.left(len(self._viewers))

    async def _delete_leftovers(self, pid: int | None, log: ViewerLog) -> None:
        """A dashboard killed before it deleted its subscription: delete it from here."""
        if self._leftovers is None or pid is None:
            return
        try:
            # Bounded here too: whatever the callable does, the slot is freed in time.
            lines = await asyncio.wait_for(self._leftovers(pid, LEFTOVER_TIMEOUT), LEFTOVER_WAIT)
        except (TimeoutError, StatisticsError, OSError) as error:
            lines = [
                f"could not delete what it left open ({clean(str(error), 200) or 'no answer'});"
                " it stays recorded for `statdash cleanup`"
            ]
        for line in lines:
            log.said(line)

    async def _stop_everyone(self, _app: web.Application) -> None:
        """On shutdown, close every viewer's socket: each handler then stops its dashboard."""
        await asyncio.gather(
            *(socket.close(code=WSCloseCode.GOING_AWAY) for socket in list(self._viewers)),
            return_exceptions=True,
        )
        # Each handler stops its dashboard in bounded time (see ViewerProcess.stop).
        deadline = asyncio.get_running_loop().time() + SHUTDOWN_WAIT
        while self._viewers and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)


class ViewerLog:
    """What serve says about one viewer's dashboard: its lines, and that the viewer left.

    A dashboard stopped because its browser left before the server first answered says
    "never reached URL: no answer before the dashboard closed"; that is the viewer leaving
    (a headless browser's screenshot does it), not the server failing, so it is said as such.
    """

    def __init__(self, say: Callable[[str], None], pid: Callable[[], int | None]) -> None:
        self._say = say
        self._pid = pid
        self.leaving = False
        """Set when the browser has gone and the dashboard is being stopped."""
        self._early = False
        self._dropped = False

    def heard(self, line: str) -> None:
        """One line the dashboard wrote on its stderr."""
        if self.leaving and NO_ANSWER_YET in line:
            self._early = True
            return
        self.said(line)

    def said(self, line: str) -> None:
        """A line of serve's own about this viewer."""
        self._say(f"viewer {self._pid()}: {line}")

    def dropped_input(self) -> None:
        """Input the dashboard was not reading was dropped: said once for the viewer."""
        if not self._dropped:
            self._dropped = True
            self.said("dropped input its dashboard was not reading (it is stopped or hung)")

    def refused(self, why: str) -> None:
        """A browser message was refused before parsing; the viewer goes on."""
        self.said(f"refused a browser message: {why}")

    def left(self, viewers: int) -> None:
        """The dashboard has ended; `viewers` are still connected."""
        when = " before its dashboard's first values" if self._early else ""
        self._say(f"viewer left{when} (dashboard pid {self._pid()} ended; {viewers} now)")


async def _relay_browser(
    socket: web.WebSocketResponse, viewer: ViewerProcess, log: ViewerLog
) -> None:
    """Hand the browser's keys, resizes and focus changes to the dashboard until it leaves.

    A message too big or of the wrong shape is refused (`log` says why) and the viewer goes
    on: it is never parsed by a decoder that recurses (100,000 nested brackets). Input the
    dashboard is not reading is dropped, never waited on (`ViewerProcess.takes_input`): a
    relay waiting on a stopped dashboard would never see the tab close, and the dashboard
    and its subscription would outlive it.
    """
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        envelope = parse_browser_message(message.data)
        if isinstance(envelope, str):
            log.refused(envelope)
            continue
        if not envelope:
            continue
        kind = envelope[0]
        data = envelope[1] if len(envelope) > 1 else None
        if kind == "ping" and isinstance(data, str):
            await socket.send_json(["pong", data])
            continue
        if kind not in ("stdin", "resize", "blur", "focus"):
            continue
        if not viewer.takes_input():
            log.dropped_input()
        elif kind == "stdin" and isinstance(data, str):
            await viewer.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            await viewer.set_terminal_size(
                _dimension(data.get("width"), 80), _dimension(data.get("height"), 24)
            )
        elif kind == "blur":
            await viewer.blur()
        elif kind == "focus":
            await viewer.focus()


def _number(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _dimension(value: object, default: int) -> int:
    """A terminal width or height from the browser, kept to a sane range."""
    return min(max(_number(value, default), 10), 1000)


PAGE = """<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <meta name="referrer" content="no-referrer">
    <title>{title}</title>
    <link rel="stylesheet" href="static/css/xterm.css">
    <script src="static/js/textual.js"></script>
    <style>
      @font-face {{
        font-family: "Roboto Mono";
        src: url("static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
      }}
      body {{ background: #0c181f; margin: 0; }}
      .dialog-container {{
        position: absolute; width: 100vw; height: 100vh; display: flex;
        align-items: center; justify-content: center; z-index: 10;
      }}
      .intro {{
        padding: 48px; font: 16px "Roboto Mono", monospace; text-align: center;
        color: rgba(255, 255, 255, 0.95); background-color: #12232d;
      }}
      body.-first-byte .intro-dialog {{ display: none; }}
      body .textual-terminal {{ opacity: 0; width: 100vw; height: 100vh; }}
      body.-first-byte .textual-terminal {{ opacity: 1; transition: opacity 0.3s ease-out; }}
      .closed-dialog {{ display: none; }}
      body.-closed .closed-dialog {{ display: flex; }}
      button {{
        margin-top: 16px; padding: 12px 32px; border: none; color: white;
        background-color: #5e0ba7; font: inherit; cursor: pointer;
      }}
    </style>
  </head>
  <body>
    <div class="dialog-container intro-dialog"><div class="intro">{title}</div></div>
    <div class="dialog-container closed-dialog">
      <div class="intro">
        <div>The dashboard has ended.</div>
        <button type="button" onclick="location.reload()">Start again</button>
      </div>
    </div>
    <div id="terminal" class="textual-terminal" data-font-size="{font_size}"></div>
    <script>
      // Relative to this page, so the same page works behind a proxy at any path, and
      // wss:// whenever the page itself came over https://. The key's cookie goes with it.
      const socketUrl = new URL("ws", window.location.href);
      socketUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
      socketUrl.search = "";
      document.getElementById("terminal").dataset.sessionWebsocketUrl = socketUrl.href;
    </script>
  </body>
</html>
"""


def render_page(title: str, *, font_size: int) -> str:
    """The page for one viewer: the title (escaped) and the terminal; it holds no key."""
    return PAGE.format(title=html.escape(clean(title, 200)), font_size=font_size)
