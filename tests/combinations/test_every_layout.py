"""Every shipped layout through every command that takes one, with the flags that combine.

What a user combines, end to end against one simulator over real HTTP, each command a real
`python -m statdash` process: `run` on its own pseudo-terminal (then `replay` and `export`
of the recording it made), `watch`, `snapshot`, `check --url` and `serve`. Each case asserts
the command's own success (live data on screen, rows in the export, the page served), no
traceback, and that the simulator is left with zero subscriptions and zero CometD clients.

The flags are spread pairwise, not crossed in full: each `run` layout gets two runs that
between them carry every flag (`--record`, `--alert-log`, `--kiosk`, `--updates push` and
`poll`, `--theme ansi-dark`, `NO_COLOR=1`, 80x24 and 200x60), so every flag meets every
layout at least once. A new flag or a new shipped layout joins here.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from statdash.layout.shipped import layouts_dir
from statdash.sim.config import SimConfig
from statdash.sim.runner import RunningSimulator
from tests.support.sim import serve
from tests.support.terminal import PtyApp, child_environment
from tests.support.wait import until

LAYOUTS = sorted(path.name for path in layouts_dir().glob("*.yaml"))
# The shipped layouts with alert rules (what `watch` watches); the others it refuses.
WITH_ALERTS = ("demo.yaml",)
API_KEY = "combination-key"
# Generous: the suite must pass on a busy 2-core machine; the waits end as soon as they can.
CEILING = 90.0
ANSI = re.compile(r"\x1b\[[0-9;?<>=$]*[A-Za-z~]|\x1b[()][A-Z0-9]|\x1b[=>]")


@dataclass(frozen=True)
class RunCase:
    """One `run` of a layout: its flags, environment and terminal size."""

    layout: str
    flags: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    size: tuple[int, int] = (100, 30)

    @property
    def name(self) -> str:
        shown = " ".join(self.flags) or "plain"
        colour = " NO_COLOR" if self.env.get("NO_COLOR") else ""
        return f"{self.layout} {shown}{colour} {self.size[0]}x{self.size[1]}"


def _run_cases() -> list[RunCase]:
    """Two runs a layout: together they carry every flag, so each flag meets each layout."""
    cases = []
    for layout in LAYOUTS:
        cases.append(
            RunCase(
                layout,
                ("--updates", "push", "--kiosk", "--theme", "ansi-dark"),
                {"NO_COLOR": "1"},
                (80, 24),
            )
        )
        cases.append(
            RunCase(layout, ("--updates", "poll", "--alert-log", "alerts.jsonl"), {}, (200, 60))
        )
    return cases


RUN_CASES = _run_cases()


@pytest.fixture(scope="module")
def floor() -> Iterator[RunningSimulator]:
    """One simulator big enough for every shipped layout (floor.yaml: 2,000 agents, 50
    queues), on a real clock so that push has changes to deliver."""
    with serve(SimConfig(agents=2000, queues=50, seed=7)) as simulator:
        yield simulator


def _state(simulator: RunningSimulator) -> dict[str, int]:
    data = simulator.state()
    return {
        "subscriptions": int(data["open_subscriptions"]),
        "cometd_clients": int(data["cometd_clients"]),
    }


def _left_clean(simulator: RunningSimulator) -> None:
    """Nothing of the command is left on the server: no subscription, no CometD client."""
    until(
        lambda: _state(simulator) == {"subscriptions": 0, "cometd_clients": 0},
        what="an empty simulator",
        timeout=30.0,
        detail=lambda: _state(simulator),
    )


def _text(output: bytes) -> str:
    return ANSI.sub("", output.decode("utf-8", "replace"))


def _statdash(
    args: Sequence[str], env: dict[str, str], *, timeout: float = CEILING
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "statdash", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _started(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """A long-running command (watch, serve) with its stdout and stderr to read."""
    return subprocess.Popen(
        [sys.executable, "-m", "statdash", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _on_screen(app: PtyApp, wanted: str, what: str) -> None:
    app.wait_for(lambda: wanted in app.screen_text(), what, CEILING)


def _quit(app: PtyApp) -> int:
    app.send(b"q")
    try:
        return app.wait_exit(CEILING)
    finally:
        app.close()


def _no_traceback(text: str, what: str) -> None:
    assert "Traceback" not in text, f"{what} printed a traceback:\n{text[-3000:]}"


def _stopped(process: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM to a long-running command, then its stdout and stderr (killed if it will not
    end, so a failing test leaves no process behind)."""
    try:
        process.send_signal(signal.SIGTERM)
        return process.communicate(timeout=CEILING)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _page_cookies(url: str) -> tuple[str, dict[str, str]]:
    """serve's printed URL opened as a browser does: its base URL, and the cookie that the
    key's first hop (a redirect to the clean page) sets."""
    base = url.split("/?token=")[0]
    with httpx.Client(timeout=30) as http:
        page = http.get(url, follow_redirects=True)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert "token=" not in str(page.url)
        return base, dict(http.cookies)


@pytest.mark.parametrize("case", RUN_CASES, ids=lambda case: case.name)
def test_run_records_then_replays_and_exports(
    floor: RunningSimulator, tmp_path: Path, case: RunCase
) -> None:
    """`run --record` shows live data and quits clean; its recording replays and exports."""
    env = child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY, **case.env})
    layout = str(layouts_dir() / case.layout)
    recording = tmp_path / "shift.sqlite"
    args = ["run", layout, "--url", floor.base_url, "--record", str(recording), *case.flags]
    app = PtyApp(args, env, size=case.size, cwd=tmp_path)
    try:
        _on_screen(app, "live", "the dashboard to go live")
        # The first frame is in the store (and so in the recording) once the server shows it.
        until(
            lambda: _state(floor)["subscriptions"] == 1,
            what="the dashboard's subscription",
            timeout=CEILING,
        )
    finally:
        code = _quit(app)
    screen = _text(app.output)
    _no_traceback(screen, "run")
    assert code == 0, screen[-2000:]
    _left_clean(floor)

    replay = PtyApp(["replay", str(recording), *_display_flags(case)], env, size=case.size)
    try:
        _on_screen(replay, "REPLAY", "the replay's screen")
    finally:
        code = _quit(replay)
    screen = _text(replay.output)
    _no_traceback(screen, "replay")
    assert code == 0, screen[-2000:]

    export = _statdash(["export", str(recording), "--format", "jsonl"], env)
    _no_traceback(export.stderr, "export")
    assert export.returncode == 0, export.stderr
    rows = [json.loads(line) for line in export.stdout.splitlines()]
    assert rows, "the export has no rows"
    assert all(row["object_id"] and row["statistic"] for row in rows)


def _display_flags(case: RunCase) -> list[str]:
    """The flags of a run that a replay takes too (how it looks)."""
    flags = list(case.flags)
    return flags[flags.index("--theme") : flags.index("--theme") + 2] if "--theme" in flags else []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_snapshot_and_check_every_layout(
    floor: RunningSimulator, tmp_path: Path, layout: str
) -> None:
    """`snapshot` reads every statistic of the layout; `check --url` resolves every one."""
    env = child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY})
    path = str(layouts_dir() / layout)
    snapshot = _statdash(["snapshot", path, "--url", floor.base_url, "--format", "json"], env)
    _no_traceback(snapshot.stderr, "snapshot")
    assert snapshot.returncode == 0, snapshot.stderr
    assert json.loads(snapshot.stdout)
    check = _statdash(["check", path, "--url", floor.base_url], env)
    _no_traceback(check.stderr + check.stdout, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "every statistic resolved" in check.stdout
    _left_clean(floor)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("updates", ["push", "poll"])
def test_watch_records_every_layout(
    floor: RunningSimulator, tmp_path: Path, layout: str, updates: str
) -> None:
    """`watch --record` goes live on every layout (its alert rules too, with their log),
    stops clean on SIGTERM, and its recording exports; without `--record` a layout with no
    alerts is refused in one line before anything opens."""
    env = child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY})
    path = str(layouts_dir() / layout)
    log = tmp_path / "alerts.jsonl"
    recording = tmp_path / "watched.sqlite"
    args = ["watch", path, "--url", floor.base_url, "--updates", updates, "--alert-log", str(log)]
    if layout not in WITH_ALERTS:
        refused = _statdash(args, env)
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1 and "has no alerts" in refused.stderr
        _left_clean(floor)
    process = _started([*args, "--record", str(recording)], env)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        assert "live on" in first, first
    finally:
        out, err = _stopped(process)
    _no_traceback(out + err, "watch")
    assert process.returncode == 0, err
    assert log.exists()
    _left_clean(floor)
    export = _statdash(["export", str(recording), "--format", "csv"], env)
    assert export.returncode == 0, export.stderr
    assert len(export.stdout.splitlines()) > 1


SERVE_FLAGS = {
    "demo.yaml": ("--updates", "push"),
    "floor.yaml": ("--kiosk",),
    "supervisor.yaml": ("--theme", "ansi-dark"),
    "wallboard.yaml": ("--updates", "poll", "--kiosk"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_serve_every_layout(floor: RunningSimulator, tmp_path: Path, layout: str) -> None:
    """`serve` prints its URL, serves the page with its key, starts a viewer's dashboard
    that subscribes, and leaves nothing open after SIGTERM."""
    env = child_environment(tmp_path, {"STATDASH_API_KEY": API_KEY})
    path = str(layouts_dir() / layout)
    flags = SERVE_FLAGS[layout]
    process = _started(["serve", path, "--url", floor.base_url, "--port", "0", *flags], env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert "/?token=" in url, url
        base, cookies = _page_cookies(url)
        with httpx.Client(timeout=30) as stranger:
            assert stranger.get(base + "/").status_code in (401, 403)
        before = _state(floor)["subscriptions"]
        viewer = _Viewer(f"{base.replace('http', 'ws', 1)}/ws?width=120&height=40", cookies)
        try:
            until(
                lambda: _state(floor)["subscriptions"] > before,
                what="the viewer's subscription",
                timeout=CEILING,
            )
        finally:
            viewer.close()
    finally:
        out, err = _stopped(process)
    _no_traceback(out + err, "serve")
    assert process.returncode == 0, err
    _left_clean(floor)


class _Viewer:
    """A browser's websocket to serve, held open on a thread of its own."""

    def __init__(self, url: str, cookies: dict[str, str]) -> None:
        import asyncio
        import threading

        import aiohttp

        self._stop = threading.Event()
        self.error: BaseException | None = None

        async def hold() -> None:
            async with (
                aiohttp.ClientSession(cookies=cookies) as http,
                http.ws_connect(url) as socket,
            ):
                while not self._stop.is_set():
                    try:
                        await socket.receive(timeout=0.2)
                    except TimeoutError:
                        continue
                    if socket.closed:
                        return

        def main() -> None:
            try:
                asyncio.run(hold())
            except BaseException as error:  # reported by close()
                self.error = error

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
