"""Screenshot `statdash serve` in a real headless Chromium: page, key, websocket, live data.

    .venv/bin/python scripts/browser_screenshot.py [--layout layouts/wallboard.yaml]
        [--out screenshots/browser-wallboard.png] [--size 1600x900]

Starts a simulator (half an hour into a shift), `statdash serve` against it on a free
loopback port, and the distribution's Chromium headless; drives the browser over the
DevTools protocol: opens the printed URL (with its access key), waits until the page has
drawn the dashboard and the simulator holds the viewer's subscription, lets two refreshes
pass, saves a PNG, then stops serve and checks that the subscription was deleted. Without
Chromium (`apt-get install chromium`) it says so and exits 0 without a picture.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
WARM_UP = 1800.0
STEP_SECONDS = 10.0
START_TIMEOUT = 60.0


def main() -> int:
    """Parse the options, find Chromium, and take the picture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", type=Path, default=ROOT / "layouts" / "wallboard.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots" / "browser-wallboard.png")
    parser.add_argument("--size", default="1600x900", help="browser window, WIDTHxHEIGHT pixels")
    parser.add_argument(
        "--settle", type=float, default=12.0, help="seconds of data before the shot"
    )
    args = parser.parse_args()
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        print("skipped: no Chromium found (apt-get install chromium); no screenshot taken")
        return 0
    width, height = (int(part) for part in args.size.lower().split("x"))
    config = SimConfig(agents=50, queues=5, seed=7, clock="manual", start_time=1_700_000_000.0)
    with running_simulator(config, log_level="critical") as simulator:
        simulator.advance(WARM_UP)
        return asyncio.run(
            shoot(browser, simulator, args.layout, args.out, (width, height), args.settle)
        )


async def shoot(
    browser: str,
    simulator: RunningSimulator,
    layout: Path,
    out: Path,
    size: tuple[int, int],
    settle: float,
) -> int:
    """Serve, browse, wait for data, save the PNG; 1 if any step did not happen."""
    environment = {**os.environ, "STATDASH_API_KEY": "statdash-demo"}
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "statdash",
            "serve",
            str(layout),
            "--url",
            simulator.base_url,
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    profile = tempfile.TemporaryDirectory(prefix="statdash-chromium-")
    chromium: subprocess.Popen[bytes] | None = None
    try:
        assert serve.stdout is not None
        url = serve.stdout.readline().strip()
        if "/?token=" not in url:
            print("serve printed no URL")
            return 1
        chromium = subprocess.Popen(
            [
                browser,
                "--headless=new",
                # Root in a container has no user namespace for the sandbox.
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--window-size={size[0]},{size[1]}",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile.name}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        page = await devtools_page(Path(profile.name))
        async with aiohttp.ClientSession() as http, http.ws_connect(page, max_msg_size=0) as tab:
            devtools = DevTools(tab)
            await devtools.call("Page.enable")
            # The window's chrome takes some of --window-size: fix the page's own size.
            await devtools.call(
                "Emulation.setDeviceMetricsOverride",
                width=size[0],
                height=size[1],
                deviceScaleFactor=1,
                mobile=False,
            )
            await devtools.call("Page.navigate", url=url)
            drawn = await wait_for(
                lambda: devtools.evaluate("document.body.classList.contains('-first-byte')")
            )

            async def subscribed_once() -> bool:
                return await open_subscriptions(http, simulator) >= 1

            subscribed = await wait_for(subscribed_once)
            if not (drawn and subscribed):
                print(f"the dashboard did not appear (drawn={drawn}, subscribed={subscribed})")
                return 1
            # Let the floor move and the dashboard poll a couple of times.
            deadline = time.monotonic() + settle
            while time.monotonic() < deadline:
                simulator.advance(STEP_SECONDS)
                await asyncio.sleep(1)
            shot = await devtools.call("Page.captureScreenshot", format="png")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(shot["data"]))
            print(f"saved {out} ({out.stat().st_size} bytes)")
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
        async with aiohttp.ClientSession() as http:
            left = await open_subscriptions(http, simulator)
        print(f"serve stopped; subscriptions left open on the simulator: {left}")
        return 0 if left == 0 else 1
    finally:
        for process in (chromium, serve):
            if process is not None and process.poll() is None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
        with contextlib.suppress(OSError):
            profile.cleanup()


async def devtools_page(profile: Path) -> str:
    """The DevTools websocket URL of the browser's first page (its port is in the profile)."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while not port_file.exists() or not port_file.read_text().strip():
        if time.monotonic() > deadline:
            raise SystemExit("Chromium did not start its DevTools endpoint")
        await asyncio.sleep(0.1)
    port = port_file.read_text().split()[0]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/json/list") as response,
    ):
        targets = await response.json()
    return str(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])


class DevTools:
    """Just enough of the Chrome DevTools protocol: a call and its answer."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events in between are skipped)."""
        call_id = next(self._ids)
        await self._socket.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads((await self._socket.receive(timeout=60)).data)
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> bool:
        """The truth of a JavaScript expression in the page."""
        answer = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return bool(answer.get("result", {}).get("value"))


async def open_subscriptions(http: aiohttp.ClientSession, simulator: RunningSimulator) -> int:
    """How many subscriptions the simulator holds open now."""
    async with http.get(f"{simulator.base_url}/simulator/state") as response:
        return int((await response.json())["open_subscriptions"])


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float = START_TIMEOUT) -> bool:
    """Await `check()` until it is true; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.25)
    return False


if __name__ == "__main__":
    sys.exit(main())
