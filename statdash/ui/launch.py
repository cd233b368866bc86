"""Runs the dashboard: client, controller, app, and the guarantee that the subscription ends.

Shared by `statdash run` and `statdash demo` (and tests), so both take the same code path.
Whatever ends the app (a key, a signal, an exception in a handler), the `finally` here
closes the controller, which deletes the subscription with a short timeout, and every
subscription is written down while open so a run killed outright can be cleaned up later.
A run that never once reached its server says so after the screen is restored and exits 1,
so a wrong URL is not mistaken for a dashboard that worked.
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
from statdash.api.describe import describe
from statdash.api.settings import Endpoint, ServerSettings
from statdash.hub.sources import SourceClient, open_source
from statdash.layout.views import CompiledLayout
from statdash.layout.vocabulary import UpdatesName
from statdash.lifecycle import detach_hung_up_terminal, hung_up
from statdash.live.alerts.actions import AlertActions
from statdash.live.alerts.log import AlertLog
from statdash.live.controller import Listener
from statdash.live.push_feed import ChannelFactory
from statdash.live.recordings.file import Recording
from statdash.live.recordings.replay import ReplayController
from statdash.live.subscriptions.leftovers import delete_left_behind
from statdash.live.subscriptions.records import SubscriptionRecords
from statdash.live.wiring import live_session
from statdash.text import clean
from statdash.ui.app import StatdashApp
from statdash.ui.messages import Bridge

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
    """The app and its controller, wired through a bridge (the one factory tests use too).

    `clock` (monotonic) and `wall_clock` (epoch seconds) are injectable so tests and
    snapshots can freeze "updated Ns ago", poll durations and time in state. Benchmarks build
    the app exactly as `statdash run` does, and hear what the controller reports (when a
    poll ended, how much it changed) as any feature does: a listener on
    `app.controller.listeners`.
    `updates` overrides the layout's `updates:` (push, poll or auto), across reloads too.
    `kiosk` is for a wall display: no key bar and no command palette (the status line stays).
    A `recorder` hears every ingest of the store, as a listener
    (`statdash.live.recordings.recorder`).
    `alert_commands=False` shows alerts (banner, toasts, bell, the alerts screen) but runs
    none of their commands: under `statdash serve` the serving process runs them, once.
    """
    bridge = Bridge()
    session = live_session(
        client,
        layout,
        open_channel=open_channel,
        # The alerts reach the screen as messages through the bridge, like everything else.
        actions=AlertActions(
            terminal=bridge.write_to_terminal,
            say=bridge.say_alert,
            banner=bridge.flash_banner,
            # Toasts: a floor going into alarm at once must not bury the screen.
            max_lines=3,
            run_commands=alert_commands,
        ),
        say=lambda line: bridge.say_alert(line, problem=True),
        on_change=bridge.store_changed,
        on_status=bridge.status_changed,
        on_alerts=bridge.alerts_changed,
        alert_log=alert_log,
        records=records,
        updates=updates,
        listeners=[recorder] if recorder is not None else (),
        clock=clock,
        wall_clock=wall_clock,
    )
    controller, alerts = session.controller, session.alerts
    app = StatdashApp(
        layout,
        controller,
        bridge,
        server=server_label,
        layout_path=layout_path,
        demo=demo,
        insecure=insecure,
        theme=theme,
        handle_signals=handle_signals,
        clock=clock,
        wall_clock=wall_clock,
        alerts=alerts,
        kiosk=kiosk,
    )
    if sys.platform != "win32" and app.driver_class is LinuxDriver:
        # Used when the app runs on a real terminal; headless test runs ignore it. Another
        # driver named by TEXTUAL_DRIVER (the web driver under `statdash serve`) is kept.
        app.driver_class = HangupSafeDriver
    elif app.driver_class is WebDriver:
        app.driver_class = ServedWebDriver
    return app


async def run_dashboard(
    layout: CompiledLayout,
    settings: Endpoint,
    *,
    layout_path: Path | None,
    demo: bool = False,
    theme: str | None = None,
    records: SubscriptionRecords | None = None,
    alert_log: AlertLog | None = None,
    updates: UpdatesName | None = None,
    kiosk: bool = False,
    recorder: Listener | None = None,
    alert_commands: bool = True,
    say: Callable[[str], None],
) -> int:
    """Run the dashboard until the user quits; always deletes the subscription.

    `say` prints a line to the user in the calling command's voice (after the screen is
    restored), e.g. that the server was never reached.

    With `records`, open subscriptions are written down and those a dead run left behind
    on this server are deleted first (the demo's simulator lives as long as the run, so it
    keeps none).
    """
    # No RetryPolicy: the session retries on its own schedule (and shows it).
    source = open_source(settings, name="statdash run")
    client = source.client
    if not source.keeps_records:
        records = None  # the hub holds the upstream subscriptions, and cleans up after itself
    app: StatdashApp | None = None
    try:
        if records is not None and isinstance(client, StatisticsClient):
            await delete_left_behind(client, records, client.server)
        app = build_app(
            layout,
            client,
            open_channel=source.open_channel,
            server_label=settings.label,
            records=records,
            layout_path=layout_path,
            demo=demo,
            insecure=isinstance(settings, ServerSettings) and settings.insecure,
            theme=theme,
            alert_log=alert_log,
            updates=updates,
            kiosk=kiosk,
            recorder=recorder,
            alert_commands=alert_commands,
        )
        await app.run_async()
    finally:
        if app is not None:
            # Deletes the subscription, then closes the listeners: alerts, the recorder.
            await app.controller.close()
        elif recorder is not None:
            await recorder.aclose()
        await client.aclose()
    if app is None:
        return 1
    if app.return_code or app.controller.reached:
        return app.return_code or 0
    # The screen is restored by now, so this line stays readable in the user's terminal.
    failure = app.controller.last_failure
    why = describe(failure) if failure is not None else "no answer before the dashboard closed"
    say(f"never reached {clean(settings.url, 200)}: {clean(why, 300)}; nothing was shown")
    return 1


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
