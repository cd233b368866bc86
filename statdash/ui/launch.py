"""The dashboard's screen: the app built on its session, on the right driver; and replays.

`statdash run` and `statdash demo` start here through statdash.ui.start, which starts the
session first and imports this module (Textual with it) on a thread while the session
connects; tests build the same app with `build_app`. Whatever ends the app (a key, a signal,
an exception in a handler), the caller's `finally` closes the controller, which deletes the
subscription with a short timeout.
The app runs on `HangupSafeDriver`, so a terminal that goes away cannot hang the exit; under
`statdash serve` (Textual's web driver) on `ServedWebDriver`, so a server that goes away ends it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import messages
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver

from statdash.api.client import StatisticsClient
from statdash.hub.sources import SourceClient
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UpdatesName
from statdash.lifecycle import detach_hung_up_terminal, hung_up
from statdash.live.alerts.log import AlertLog
from statdash.live.controller import Listener
from statdash.live.push_feed import ChannelFactory
from statdash.live.recordings.file import Recording
from statdash.live.recordings.replay import ReplayController
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.live.wiring import LiveSession
from statdash.ui.app import StatdashApp
from statdash.ui.bridge import Bridge
from statdash.ui.start import dashboard_session

log = logging.getLogger("statdash")


class HangupSafeDriver(LinuxDriver):
    """Textual's Linux driver, except that output stops once the terminal has hung up.

    Textual hands output to a writer thread through a queue of 30 writes. When the terminal
    goes away (SSH drops, window closed) that thread dies on its first EIO, and the 31st
    write after it blocks the event loop for good: measured with a closed pty, the app
    deleted its subscription and then never exited. Dropping output from then on keeps the
    queue short, so the shutdown completes.
    """

    _gone = False

    def write(self, data: str) -> None:
        """Write `data`, unless the terminal is gone (then nothing can show it anyway)."""
        if not self._gone and hung_up(sys.__stderr__.fileno() if sys.__stderr__ else 2):
            self._gone = True
            detach_hung_up_terminal()
        if self._gone:
            return
        super().write(data)


class ServedWebDriver(WebDriver):
    """Textual's web driver, except that the app exits when the serving process is gone.

    Textual's own stops reading when its input ends and keeps the app running: measured with
    `statdash serve` killed by SIGKILL, each viewer's dashboard went on polling, its
    subscription open, with nobody to see it. Here the end of input asks the app to exit
    (the normal way out, which deletes the subscription), and output to the vanished server
    is dropped instead of failing.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gone = False
        write = self._write

        def write_while_served(data: bytes) -> int:
            if self._gone:
                return 0
            try:
                return write(data)
            except (BrokenPipeError, ConnectionResetError):
                self._gone = True
                return 0

        self._write = write_while_served  # type: ignore[assignment]

    def run_input_thread(self) -> None:
        """Relay input until it ends; an end nobody asked for means the server is gone."""
        super().run_input_thread()
        if not self.exit_event.is_set():
            log.warning("the serving process is gone; exiting")
            self._app.post_message(messages.ExitApp())


def build_app(
    layout: CompiledLayout,
    client: StatisticsClient | SourceClient,
    *,
    open_channel: ChannelFactory | None = None,
    server_label: str,
    records: SubscriptionRecords | None = None,
    layout_path: Path | None = None,
    demo: bool = False,
    insecure: bool = False,
    theme: str | None = None,
    handle_signals: bool = True,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    alert_log: AlertLog | None = None,
    updates: UpdatesName | None = None,
    kiosk: bool = False,
    recorder: Listener | None = None,
    alert_commands: bool = True,
) -> StatdashApp:
    """The app and its session, wired through a bridge (the one factory tests use too).

    `statdash run` builds the same two pieces apart (statdash.ui.start), the session first.
    `clock` (monotonic) and `wall_clock` (epoch seconds) are injectable so tests and
    snapshots can freeze "updated Ns ago", poll durations and time in state. Benchmarks build
    the app exactly as `statdash run` does, and hear what the controller reports (when a
    poll ended, how much it changed) as any feature does: a listener on
    `app.controller.listeners`.
    `updates` overrides the layout's `updates:` (push, poll or auto), across reloads too.
    The session starts when the app mounts.
    """
    bridge = Bridge()
    session = dashboard_session(
        layout,
        client,
        bridge,
        open_channel=open_channel,
        records=records,
        alert_log=alert_log,
        updates=updates,
        recorder=recorder,
        alert_commands=alert_commands,
        clock=clock,
        wall_clock=wall_clock,
    )
    return dashboard_app(
        layout,
        session,
        bridge,
        server_label=server_label,
        layout_path=layout_path,
        demo=demo,
        insecure=insecure,
        theme=theme,
        handle_signals=handle_signals,
        clock=clock,
        wall_clock=wall_clock,
        kiosk=kiosk,
    )


def dashboard_app(
    layout: CompiledLayout,
    session: LiveSession,
    bridge: Bridge,
    *,
    server_label: str,
    layout_path: Path | None = None,
    demo: bool = False,
    insecure: bool = False,
    theme: str | None = None,
    handle_signals: bool = True,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    kiosk: bool = False,
) -> StatdashApp:
    """The screen of `session`, which reports to it through `bridge`, on the right driver.

    `kiosk` is for a wall display: no key bar and no command palette (the status line stays).
    """
    app = StatdashApp(
        layout,
        session.controller,
        bridge,
        server=server_label,
        layout_path=layout_path,
        demo=demo,
        insecure=insecure,
        theme=theme,
        handle_signals=handle_signals,
        clock=clock,
        wall_clock=wall_clock,
        alerts=session.alerts,
        kiosk=kiosk,
    )
    if sys.platform != "win32" and app.driver_class is LinuxDriver:
        # Used when the app runs on a real terminal; headless test runs ignore it. Another
        # driver named by TEXTUAL_DRIVER (the web driver under `statdash serve`) is kept.
        app.driver_class = HangupSafeDriver
    elif app.driver_class is WebDriver:
        app.driver_class = ServedWebDriver
    return app


def build_replay_app(
    recording: Recording,
    *,
    speed: float = 1.0,
    at: float | None = None,
    theme: str | None = None,
    handle_signals: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> StatdashApp:
    """The same app on a recording: a `ReplayController` in place of the live one.

    The screen's clocks are the replay's moment, so time in state and staleness are those of
    the moment shown. No client exists: a replay cannot open a connection.
    """
    bridge = Bridge()
    controller = ReplayController(
        recording,
        on_change=bridge.store_changed,
        on_status=bridge.status_changed,
        speed=speed,
        at=at,
        clock=clock,
    )
    app = StatdashApp(
        controller.layout,
        controller,
        bridge,
        server=recording.info.server,
        theme=theme,
        handle_signals=handle_signals,
        clock=controller.moment,
        wall_clock=controller.moment,
        watch_layout=False,
    )
    if sys.platform != "win32":
        app.driver_class = HangupSafeDriver
    return app


async def run_replay(
    recording: Recording, *, speed: float, at: float | None, theme: str | None
) -> int:
    """Replay until the user quits."""
    app = build_replay_app(recording, speed=speed, at=at, theme=theme)
    try:
        await app.run_async()
    finally:
        await app.controller.close()
    return app.return_code or 0
