"""What one browser viewer of `statdash serve` costs: memory and CPU of its dashboard process.

    .venv/bin/python benchmarks/serve_viewers.py [--layout layouts/wallboard.yaml]
        [--viewers 3] [--size 160x45] [--seconds 30]

Starts a realtime simulator and `statdash serve` against it, connects `--viewers` websocket
clients (reading every frame, as a browser does), waits until every dashboard holds its
subscription and has drawn for 10 s, then samples for `--seconds`: each dashboard's RSS
(VmRSS) at the end and its CPU time (utime + stime from /proc) over the window, and the same
for the serving process. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator, running_simulator

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
WARM = 10.0


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(pid)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    """The direct children of `pid` (the viewers' dashboards of a serve process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


async def open_subscriptions(http: aiohttp.ClientSession, simulator: RunningSimulator) -> int:
    """How many subscriptions the simulator holds open now."""
    async with http.get(f"{simulator.base_url}/simulator/state") as response:
        return int((await response.json())["open_subscriptions"])


async def measure(
    simulator: RunningSimulator, layout: Path, viewers: int, size: tuple[int, int], seconds: float
) -> None:
    """Serve, connect the viewers, sample, print one table."""
    environment = {**os.environ, "STATDASH_API_KEY": "statdash-demo"}
    argv = [sys.executable, "-m", "statdash", "serve", str(layout), "--url", simulator.base_url]
    serve = subprocess.Popen(
        [*argv, "--port", "0", "--max-viewers", str(viewers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    assert serve.stdout is not None
    url = serve.stdout.readline().strip()
    base = url.split("/?token=")[0]
    received = [0] * viewers
    try:
        # As a browser: the printed URL sets the key's cookie (kept for an IP-address host
        # too) and redirects to the clean page; the websocket goes with the cookie.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(url) as page:
                page.raise_for_status()
            sockets = [
                await http.ws_connect(f"{base}/ws?width={size[0]}&height={size[1]}")
                for _ in range(viewers)
            ]

            async def read(index: int) -> None:
                async for message in sockets[index]:
                    if isinstance(message.data, bytes):
                        received[index] += len(message.data)

            readers = [asyncio.create_task(read(index)) for index in range(viewers)]
            while await open_subscriptions(http, simulator) < viewers:
                await asyncio.sleep(0.2)
            await asyncio.sleep(WARM)
            pids = children(serve.pid)
            before = {pid: cpu_seconds(pid) for pid in [serve.pid, *pids]}
            sent_before = sum(received)
            started = time.monotonic()
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - started
            after = {pid: cpu_seconds(pid) for pid in before}
            sent = sum(received) - sent_before
            print(
                f"layout {layout.name}, {viewers} viewer(s) at {size[0]}x{size[1]}, {elapsed:.0f} s"
            )
            for pid in pids:
                share = (after[pid] - before[pid]) / elapsed * 100
                print(f"  viewer pid {pid}: RSS {rss_mib(pid):.1f} MiB, CPU {share:.2f} %")
            share = (after[serve.pid] - before[serve.pid]) / elapsed * 100
            print(f"  serve  pid {serve.pid}: RSS {rss_mib(serve.pid):.1f} MiB, CPU {share:.2f} %")
            print(f"  to the browsers: {sent / elapsed / 1024:.1f} KiB/s in all")
            for socket in sockets:
                await socket.close()
            for reader in readers:
                await reader
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)


def main() -> None:
    """Parse the options and measure once."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", type=Path, default=ROOT / "layouts" / "wallboard.yaml")
    parser.add_argument("--viewers", type=int, default=1)
    parser.add_argument("--size", default="160x45", help="each viewer's terminal, COLSxROWS")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.lower().split("x"))
    config = SimConfig(agents=50, queues=5, seed=7)
    with running_simulator(config, log_level="critical") as simulator:
        asyncio.run(measure(simulator, args.layout, args.viewers, (width, height), args.seconds))


if __name__ == "__main__":
    main()
